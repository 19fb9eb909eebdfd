"""Word lists for the seed: names, places and the lists a small nonprofit sets up."""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    """The words of ``text``."""
    return tuple(text.split())


FIRST_NAMES = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony "
    "Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth "
    "Carol Kevin Amanda Brian Dorothy George Melissa Timothy Deborah Ronald Stephanie Edward Rebecca "
    "Jason Sharon Jeffrey Laura Ryan Cynthia Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley "
    "Jonathan Anna Stephen Brenda Larry Pamela Justin Emma Scott Nicole Brandon Helen Benjamin Samantha "
    "Samuel Katherine Gregory Christine Alexander Debra Frank Rachel Patrick Carolyn Raymond Janet Jack "
    "Catherine Dennis Maria Jerry Heather Tyler Diane Aaron Ruth Jose Julie Adam Olivia Nathan Joyce "
    "Henry Virginia Douglas Victoria Zachary Kelly Peter Lauren Kyle Christina Noah Joan Ethan Evelyn "
    "Jeremy Judith Walter Megan Christian Andrea Keith Cheryl Roger Hannah Terry Jacqueline Austin Martha "
    "Sean Gloria Gerald Teresa Carl Ann Harold Sara"
)
LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker "
    "Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper "
    "Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James "
    "Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
    "Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez "
    "Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole "
    "Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens "
    "Harrison Fernandez McDonald Woods Washington Kennedy"
)
PREFIXES = ("Mr.", "Ms.", "Mrs.", "Dr.")
SUFFIXES = ("Jr.", "Sr.", "II", "III")
ORG_WORDS = _words(
    "Riverside Summit Harbor Evergreen Pioneer Lakeside Granite Maple Cedar Keystone Liberty Horizon "
    "Beacon Heritage Northstar Redwood Silverline Bluewater Meadow Ironwood"
)
ORG_KINDS = (
    "Foundation",
    "Community Bank",
    "Health Partners",
    "Family Foundation",
    "Construction",
    "Law Group",
    "Credit Union",
    "Dental Care",
    "Engineering",
    "Insurance Agency",
    "Rotary Club",
    "Charitable Trust",
)
STREET_NAMES = (
    "Oak",
    "Maple",
    "Pine",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Main",
    "Church",
    "River",
    "Sunset",
    "Highland",
    "Jefferson",
    "Lincoln",
    "Franklin",
    "Willow",
    "Meadow",
    "Forest",
)
STREET_KINDS = ("St", "Ave", "Rd", "Ln", "Dr", "Ct", "Blvd", "Way")
# (city, state abbreviation, ZIP prefix)
CITIES = (
    ("Indianapolis", "IN", "462"),
    ("Carmel", "IN", "460"),
    ("Columbus", "OH", "432"),
    ("Louisville", "KY", "402"),
    ("Chicago", "IL", "606"),
    ("Nashville", "TN", "372"),
    ("St. Louis", "MO", "631"),
    ("Madison", "WI", "537"),
    ("Grand Rapids", "MI", "495"),
    ("Des Moines", "IA", "503"),
    ("Denver", "CO", "802"),
    ("Atlanta", "GA", "303"),
    ("Raleigh", "NC", "276"),
    ("Richmond", "VA", "232"),
    ("Pittsburgh", "PA", "152"),
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "inbox.example.org")
JOB_TITLES = (
    "Teacher",
    "Nurse",
    "Engineer",
    "Accountant",
    "Attorney",
    "Retired",
    "Manager",
    "Pastor",
    "Physician",
)
FUNDS = (
    ("General Operating Fund", True),
    ("Scholarship Fund", True),
    ("Building Fund", True),
    ("Food Pantry", True),
    ("Youth Programs", True),
    ("Endowment", True),
    ("Emergency Relief", True),
    ("Arts Outreach", False),
)
APPEALS = (
    "Spring Newsletter",
    "Summer Mailing",
    "Year-End Appeal",
    "Annual Gala",
    "Giving Tuesday",
    "Golf Outing",
    "Online Donation Form",
    "Board Ask",
    "Matching Gift Drive",
    "Memorial Gifts",
    "Capital Campaign Letter",
    "Event Sponsorship",
)
EMAIL_INTERESTS = (
    ("Newsletter", False),
    ("Events", False),
    ("Volunteer Opportunities", False),
    ("Donor Surveys", True),
)
DONOR_LEVELS = ("Friend", "Supporter", "Champion", "Benefactor")
VOLUNTEER_INTERESTS = ("Tutoring", "Food Drives", "Events", "Board Service", "Mentoring")
# Gift sizes a small nonprofit sees, with their weights.
GIFT_AMOUNTS = (
    (10, 8),
    (25, 20),
    (50, 22),
    (75, 6),
    (100, 18),
    (150, 5),
    (250, 9),
    (500, 6),
    (1000, 4),
    (5000, 1),
)
RECURRING_AMOUNTS = (10, 15, 20, 25, 50, 100)
PLEDGE_AMOUNTS = (600, 1200, 2400, 5000, 10000)
