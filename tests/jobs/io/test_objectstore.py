"""boto3 clients for object storage: made once, reused while the credentials stay the same."""

from jobs.io.objectstore import s3_client, split_uri
from jobs.settings import S3Settings

MINIO = S3Settings(endpoint="http://127.0.0.1:9000", path_style_access=True)


def test_a_client_is_reused_for_the_same_store_and_credentials():
    assert s3_client(MINIO) is s3_client(MINIO.model_copy())


def test_other_credentials_or_another_endpoint_get_a_client_of_their_own(monkeypatch):
    first = s3_client(MINIO)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "rotated")
    rotated = s3_client(MINIO)
    assert rotated is not first
    assert rotated._request_signer._credentials.secret_key == "rotated"
    other = MINIO.model_copy(update={"endpoint": "http://127.0.0.1:9100"})
    assert s3_client(other) is not rotated
    assert s3_client(other).meta.endpoint_url == "http://127.0.0.1:9100"


def test_a_uri_names_its_bucket_and_key():
    assert split_uri("s3a://lakehouse-dev/landing/flights") == ("lakehouse-dev", "landing/flights")
