provider "aws" {
  region     = "us-east-1"
  access_key = "AKIA«»7UFOE16MQB9H0N02"
  secret_key = "Czeg«»QNdol6wBavqaNPuGmJdDqoe3BHN9oz4SYGY1"
}

provider "digitalocean" {
  token = "dop_«»v1_32e294bc9ae8fb8230ebaf6d4684ffd93758b892cd297064dd1134cf8adc5e63"
}

resource "aws_db_instance" "main" {
  engine   = "postgres"
  username = "admin"
  password = "Tf-P«»g!Secr3t99"
}

variable "region" {
  default = "us-east-1"
}
