variable "db_password" {
  description = "Password of the database admin user"
  type        = string
  sensitive   = true
}

resource "aws_db_instance" "main" {
  password = var.db_password
  username = "admin"
}

data "aws_secretsmanager_secret_version" "api_key" {
  secret_id = aws_secretsmanager_secret.api_key.id
}
