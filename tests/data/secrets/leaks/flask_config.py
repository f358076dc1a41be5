class ProductionConfig:
    SECRET_KEY = b"bVcA«»nZYiY33qnzNqYSedLm8273CwMsRa"
    SQLALCHEMY_DATABASE_URI = "mysql+pymysql://admin:Xk9#«»mPq2Lz!@mysql.prod:3306/app"
    MAIL_PASSWORD = "Fl4s«»k-M4il-2024"
    HUGGINGFACE_TOKEN = "hf_p«»cwYVyBNdMoLFidMRRHvBfUSJGFXYbdsqp"
    SESSION_COOKIE_NAME = "session"
