"""Django settings for the shop project."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "django-insecure-n«»3hi&ch0dysg#ic19mc^koc+@yvgc^zlfbalid5yv(ijn^8xzw"
DEBUG = False
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "shop",
        "PASSWORD": "pG_P«»r0d!2024xyz",
        "HOST": os.environ.get("DB_HOST", "localhost"),
    }
}
EMAIL_HOST_PASSWORD = "m4il«»Gun#Pass99"
GITHUB_TOKEN = "ghp_«»Up2m2ea3AEQzH8M2PossJjlTmxthHeXpD1oY"
OPENAI_API_KEY = "sk-proj-W«»chmt98tBqsVi3CXFlnb5SbZijXQTDAoQNCvMKjjzvHFb5ss"
ANTHROPIC_API_KEY = "sk-ant-a«»pi03-fR9BEo8Ijf_L-LPSX6if6ElAcpkGXv_XjCnGvpYta8JntZfwxusEfLxNA4gcHw52ECUMeEYDJjGhohBpwYEuf1BWKWiO-AA"
DATADOG_API_KEY = "4f71«»fc7865ecb34867db276aa63565bf"
ALGOLIA_ADMIN_API_KEY = 'beac«»7f1c489c62d7b7c37c3debaa1a12'
