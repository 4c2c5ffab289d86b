"""What each table is made of and how it is audited: transforms, rules and gates together."""
