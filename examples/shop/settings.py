DEBUG = False
REGION = "eu-west-1"
<<<<<<< HEAD
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
=======
AWS_ACCESS_KEY_ID = os.environ["AWS_ACCESS_KEY_ID"]
>>>>>>> feature/env-keys
