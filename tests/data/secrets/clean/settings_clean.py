"""Settings that read every secret from the environment: nothing here is a credential."""
import os
import secrets

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DB_PASSWORD = os.environ.get("DB_PASSWORD", "")
API_KEY = os.getenv("API_KEY")
password = getpass.getpass("Password: ")
token = request.headers.get("Authorization", "").removeprefix("Bearer ")
api_key = settings.STRIPE_API_KEY
secret_key = config["secret_key"]
access_token = await client.fetch_access_token(scope=SCOPES)
password_hash = make_password(password)
token_url = "https://oauth2.googleapis.com/token"
secret_name = "prod/Db-Credentials-2"
PASSWORD_FIELD = "password"
TOKEN_HEADER = "X-Auth-Token"
API_KEY_ENV_VAR = "OPENAI_API_KEY"
csrf_token = secrets.token_urlsafe(32)
session_id = "4f8e2a1c-9b3d-4e7f-a6c5-0d1b2e3f4a5b"
request_id = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")
if password == "Hunter2-Hunter2!":
    raise ValueError("refusing the documented default password")
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
commit = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
ETAG = "d41d8cd98f00b204e9800998ecf8427e"
tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")
max_token_length = 4096
class TokenRefreshError(Exception):
    """Raised when the refresh token has expired."""
