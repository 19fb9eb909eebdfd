"""Text templates the CLI writes."""

CONFIG_TEMPLATE = """# crmsync configuration. Values written as "env:NAME" are read from the environment
# variable NAME, so credentials never live in this file.

# Where the platform lives: a SQLite file (the embedded default) or PostgreSQL, e.g.
# "postgresql+psycopg://user@host:5432/platform".
database_url = "sqlite:///crmsync.db"

# The tenant these connections belong to (the embedded default has one).
organization = "default"

# One table per CRM connection. Credentials are encrypted at rest with the key in
# $CRMSYNC_SECRET_KEY (create one with `crmsync keygen`).
[connections.salesforce]
crm = "salesforce"
profile = "npsp"                        # packaged profile, or a path to a profile YAML file
login_url = "https://login.salesforce.com"   # https://test.salesforce.com for a sandbox
api_version = "61.0"
auth = "password"                       # password | client_credentials | refresh_token | jwt
client_id = "env:SF_CLIENT_ID"          # the connected app's consumer key
client_secret = "env:SF_CLIENT_SECRET"
username = "env:SF_USERNAME"
password = "env:SF_PASSWORD"
# security_token = "env:SF_SECURITY_TOKEN"   # appended to the password when the org needs it
# private_key_file = "/etc/crmsync/sf.key"   # for auth = "jwt"
lookback_seconds = 300                  # overlap of incremental pulls, catches late commits
# patience_minutes = 10                 # how long Sync All waits out a failing Salesforce

# Toggles: nothing moves that is not switched on. "default" applies to every object
# not listed.
[connections.salesforce.toggles]
default = { pull = true, push = false }
# subscriptions = { pull = false, push = false }

# Filters: conditions every pull of an object respects (values are escaped for you).
# [[connections.salesforce.filters.supporters]]
# field = "LastName"
# op = "!="
# value = "Test"

# A Bloomerang database (REST API v2), by its API key: Settings > Integrations > API keys.
# [connections.bloomerang]
# crm = "bloomerang"
# profile = "bloomerang"
# api_url = "https://api.bloomerang.co/v2"
# api_key = "env:BLOOMERANG_API_KEY"
# rate_limit = "10/1"                   # LIMIT/SECONDS the client keeps to (429s are honoured anyway)
# concurrency = 4                       # list pages fetched at once
# poll_minutes = 15                     # `crmsync run` pulls what changed this often
# reconcile_hours = 24                  # and lists every id this often, to find deletions
# [connections.bloomerang.toggles]
# default = { pull = true, push = false }
# supporters = { pull = true, push = true }
"""
