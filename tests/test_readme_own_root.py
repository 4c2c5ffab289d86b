"""The README walkthroughs marked ``root=own`` (see :mod:`tests.test_readme`), each in a fresh
lakehouse root of its own. A module apart, so that `make test`'s other worker process takes
them while the first runs the rest of the documents top to bottom."""

from __future__ import annotations

import pytest

from tests.test_readme import fresh_lakehouse_root, own_root_walkthroughs, run_blocks

# Those a module of their own runs (``test=``) are not run here.
APART = {name: blocks for name, blocks in own_root_walkthroughs().items() if not blocks[0].test}


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.timeout(1800)  # the quick bench: 4 minutes beside the other test worker
@pytest.mark.parametrize("walkthrough", sorted(APART))
def test_a_walkthrough_runs_in_a_root_of_its_own(walkthrough):
    blocks = APART[walkthrough]
    with fresh_lakehouse_root() as root:
        ran = [block.where for block, _ in run_blocks(blocks, root)]
    assert ran == [block.where for block in blocks]
