from eth_account import Account

PRIVATE_KEY = "0xca«»126c4a3f09d20391bbd6f5fafd29b6f5437c2a9a57c3aa1db21561aa331055"
deployer_private_key = 'a743«»c8df1ac4e64f01487226e72dcfd0be2c528638393a931c0ca2a8b06633b2'
account = Account.from_key(PRIVATE_KEY)
