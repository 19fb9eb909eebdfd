"""Small built-in word lists the NPSP seed draws names, places and labels from."""

from __future__ import annotations

FIRST_NAMES = (
    "Aaliyah", "Aaron", "Abigail", "Adam", "Aisha", "Alan", "Alice", "Amara", "Amir", "Ana", "Andre",
    "Angela", "Ben", "Bianca", "Carlos", "Carmen", "Chen", "Chloe", "Daniel", "Darius", "David",
    "Deborah", "Diego", "Elena", "Eli", "Emma", "Eric", "Fatima", "Felix", "Grace", "Hana", "Hannah",
    "Hugo", "Ibrahim", "Imani", "Isaac", "Jamal", "James", "Jane", "Javier", "Jin", "John", "Jose",
    "Julia", "Kai", "Karen", "Kenji", "Laura", "Leila", "Liam", "Lucia", "Maria", "Mark", "Maya",
    "Mei", "Michael", "Mohammed", "Nadia", "Naomi", "Noah", "Olivia", "Omar", "Patricia", "Paul",
    "Priya", "Rachel", "Rafael", "Ravi", "Rosa", "Ruth", "Samuel", "Sara", "Sofia", "Tariq", "Thomas",
    "Tomas", "Valentina", "Victor", "Wei", "Yara", "Yusuf", "Zoe",
)  # fmt: skip

LAST_NAMES = (
    "Abbott", "Adeyemi", "Alvarez", "Andersen", "Baker", "Banerjee", "Becker", "Bennett", "Brooks",
    "Castillo", "Chen", "Clarke", "Cohen", "Costa", "Dubois", "Edwards", "Evans", "Fischer", "Flores",
    "Foster", "Garcia", "Goldberg", "Gomez", "Gupta", "Hall", "Hansen", "Harris", "Hayes", "Hughes",
    "Ibrahim", "Ito", "Jackson", "Jensen", "Johnson", "Kaur", "Kelly", "Khan", "Kim", "Kowalski",
    "Larsen", "Lee", "Lopez", "Martin", "Mendes", "Meyer", "Miller", "Moreau", "Murphy", "Nakamura",
    "Nguyen", "Novak", "Okafor", "Olsen", "Ortiz", "Patel", "Perez", "Peters", "Price", "Quinn",
    "Ramirez", "Reed", "Reyes", "Rossi", "Russo", "Sanchez", "Schmidt", "Silva", "Singh", "Smith",
    "Sullivan", "Tanaka", "Taylor", "Thompson", "Torres", "Tran", "Turner", "Walker", "Wang", "Weber",
    "Williams", "Wilson", "Wong", "Yamamoto", "Young", "Zhang",
)  # fmt: skip

STREET_NAMES = (
    "Oak", "Maple", "Cedar", "Pine", "Elm", "Willow", "Lake", "Hill", "River", "Park", "Church",
    "Mill", "Spring", "Washington", "Lincoln", "Jefferson", "Highland", "Sunset", "Meadow", "Forest",
)  # fmt: skip
STREET_KINDS = ("St", "Ave", "Rd", "Ln", "Dr", "Way", "Ct", "Blvd")

# City, state and the first three digits of its ZIP codes.
CITIES = (
    ("Portland", "OR", "972"), ("Seattle", "WA", "981"), ("Denver", "CO", "802"),
    ("Austin", "TX", "787"), ("Chicago", "IL", "606"), ("Boston", "MA", "021"),
    ("Atlanta", "GA", "303"), ("Minneapolis", "MN", "554"), ("Phoenix", "AZ", "850"),
    ("Philadelphia", "PA", "191"), ("San Diego", "CA", "921"), ("Oakland", "CA", "946"),
    ("Madison", "WI", "537"), ("Raleigh", "NC", "276"), ("Nashville", "TN", "372"),
    ("Baltimore", "MD", "212"), ("Columbus", "OH", "432"), ("Albuquerque", "NM", "871"),
)  # fmt: skip

EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "post.example.org")

ORGANIZATION_WORDS = (
    "Riverside", "Summit", "Evergreen", "Harbor", "Northstar", "Bluebird", "Cornerstone", "Lakeside",
    "Beacon", "Keystone", "Horizon", "Pioneer", "Granite", "Juniper", "Redwood", "Silverline",
)  # fmt: skip
ORGANIZATION_KINDS = (
    "Foundation",
    "Trust",
    "Partners",
    "Bank",
    "Insurance",
    "Health",
    "Community Fund",
    "Inc.",
)

GAU_NAMES = (
    "General Fund", "Scholarship Fund", "Building Fund", "Food Programme", "Youth Education",
    "Emergency Relief", "Arts Access", "Health Outreach", "Endowment", "Volunteer Programme",
    "Capital Campaign", "Research Fund",
)  # fmt: skip

CAMPAIGN_THEMES = (
    "Spring Appeal", "Year-End Appeal", "Annual Gala", "Giving Tuesday", "Summer Fun Run",
    "Membership Drive", "Matching Challenge", "Donor Newsletter", "Volunteer Day", "Capital Campaign Launch",
)  # fmt: skip
CAMPAIGN_TYPES = ("Direct Mail", "Email", "Conference", "Other", "Telemarketing", "Advertisement")

SUBSCRIPTION_LISTS = ("Monthly Newsletter", "Event Invitations", "Volunteer News", "Advocacy Alerts")
SUBSCRIPTION_SOURCES = ("Website signup", "Event registration", "Donation form", "Data import", "Phone call")

GIFT_AMOUNTS = (10.0, 15.0, 20.0, 25.0, 30.0, 50.0, 75.0, 100.0, 150.0, 250.0, 500.0, 1000.0, 2500.0)
MAJOR_GIFT_AMOUNTS = (5000.0, 7500.0, 10000.0, 25000.0, 50000.0)
PAYMENT_METHODS = ("Credit Card", "Check", "Cash", "ACH", "PayPal")

# Record types as developer name, label and object.
RECORD_TYPES = (
    ("HH_Account", "Household Account", "Account"),
    ("Organization", "Organization", "Account"),
    ("Donation", "Donation", "Opportunity"),
    ("Grant", "Grant", "Opportunity"),
    ("Major_Gift", "Major Gift", "Opportunity"),
    ("Membership", "Membership", "Opportunity"),
    ("Pledge", "Pledge", "Opportunity"),
)

# First name, last name, title and login of the users besides the integration admin.
USERS = (
    ("Dana", "Whitfield", "Development Director", "dana.whitfield"),
    ("Luis", "Ferreira", "Gift Processor", "luis.ferreira"),
    ("Grace", "Okonkwo", "Data Manager", "grace.okonkwo"),
)
