"""Word lists the synthetic corpus is drawn from: hosts, meetings, people and statement text."""

from __future__ import annotations

HOST_CAPITALS: dict[str, str] = {
    "US": "Washington", "GB": "London", "FR": "Paris", "DE": "Berlin", "IT": "Rome",
    "JP": "Tokyo", "CA": "Ottawa", "AU": "Canberra", "CN": "Beijing", "IN": "New Delhi",
    "BR": "Brasília", "ZA": "Pretoria", "NG": "Abuja", "KE": "Nairobi", "EG": "Cairo",
    "SA": "Riyadh", "AE": "Abu Dhabi", "QA": "Doha", "TR": "Ankara", "RU": "Moscow",
    "KR": "Seoul", "ID": "Jakarta", "MX": "Mexico City", "AR": "Buenos Aires", "CL": "Santiago",
    "CO": "Bogotá", "PE": "Lima", "ES": "Madrid", "PT": "Lisbon", "NL": "The Hague",
    "BE": "Brussels", "SE": "Stockholm", "NO": "Oslo", "DK": "Copenhagen", "FI": "Helsinki",
    "PL": "Warsaw", "AT": "Vienna", "CH": "Geneva", "IE": "Dublin", "GR": "Athens",
    "RO": "Bucharest", "UA": "Kyiv", "KZ": "Astana", "UZ": "Tashkent", "PK": "Islamabad",
    "BD": "Dhaka", "TH": "Bangkok", "VN": "Hanoi", "MY": "Kuala Lumpur", "SG": "Singapore",
    "PH": "Manila", "NZ": "Wellington", "ET": "Addis Ababa", "GH": "Accra", "SN": "Dakar",
    "MA": "Rabat", "DZ": "Algiers", "TN": "Tunis", "JO": "Amman", "IQ": "Baghdad",
}
"""The ~60 countries that host meetings, and the city each hosts in."""

ORGANISATIONS: dict[str, str] = {
    "european-union": "European Union", "united-nations": "United Nations",
    "african-union": "African Union", "nato": "NATO", "asean": "ASEAN", "osce": "OSCE",
    "arab-league": "Arab League", "g7": "G7",
}
"""Built-in organisations of communique that statements name as issuers or participants."""

MEETING_KINDS = (
    "Ministerial Conference on", "Contact Group on", "Senior Officials' Meeting on",
    "Strategic Dialogue on", "Working Group on", "Summit on", "Foreign Ministers' Meeting on",
    "High-Level Forum on", "Friends of the Process on", "Partnership Council on",
    "Joint Commission on", "Steering Committee on", "Core Group on", "Roundtable on",
    "Coordination Platform on",
)
SUBJECTS = (
    "Maritime Security", "Food Security", "Counterterrorism", "Climate and Security",
    "Nuclear Non-Proliferation", "Cyber Resilience", "Humanitarian Access", "Refugee Protection",
    "Energy Transition", "Critical Minerals", "Global Health", "Migration and Mobility",
    "Women, Peace and Security", "Disarmament", "Stabilization", "Demining",
    "Water Cooperation", "Trade Facilitation", "Digital Connectivity", "Anti-Corruption",
    "Space Security", "Pandemic Preparedness", "Biodiversity", "Rule of Law",
    "Transitional Justice", "Peacekeeping", "Arms Control", "Infrastructure Investment",
    "Education in Emergencies", "Ocean Governance",
)
REGIONS = (
    "the Sahel", "Central Asia", "the Western Balkans", "the Horn of Africa", "the Gulf of Guinea",
    "the Indo-Pacific", "the Eastern Mediterranean", "the Black Sea", "the Great Lakes Region",
    "the Caribbean", "the Andean Region", "the Pacific Islands", "the Arctic", "the Levant",
    "Southeast Asia", "the South Caucasus", "the Lake Chad Basin", "the Red Sea", "South Asia",
    "Central America",
)

TOPICS = (
    "counterterrorism", "stabilization", "maritime-security", "climate", "energy", "health",
    "migration", "trade", "human-rights", "humanitarian", "nonproliferation", "cyber",
    "development", "governance", "gender", "education", "food-security", "water", "peacekeeping",
    "sanctions", "elections", "refugees", "demining", "arms-control", "infrastructure",
    "anti-corruption", "oceans", "space", "digital", "finance",
)

STATEMENT_TYPES: dict[str, str] = {
    "joint-statement": "Joint Statement", "joint-communique": "Joint Communiqué",
    "declaration": "Declaration", "chairs-statement": "Chair's Statement", "readout": "Readout",
    "statement": "Statement",
}
TYPE_WEIGHTS = (40, 20, 10, 15, 10, 5)

FIRST_NAMES = (
    "Amina", "Carlos", "Ingrid", "Kenji", "Fatima", "Oleksandr", "Priya", "Jean", "Aisha",
    "Tomás", "Mei", "Kwame", "Sofia", "Rashid", "Lena", "Mateo", "Yuki", "Nadia", "Emeka", "Hanna",
)
LAST_NAMES = (
    "Okafor", "Lindqvist", "Tanaka", "Haddad", "Kowalski", "Mensah", "Rossi", "Fernández",
    "Nguyen", "Dubois", "Khan", "Petrenko", "Silva", "Müller", "Sato", "Abdullah", "Novak",
    "Osei", "Ibrahim", "Moreau",
)
ROLES = (
    "Foreign Minister", "Deputy Foreign Minister", "Special Envoy", "Political Director",
    "Ambassador", "Minister of Defence", "Secretary of State", "Director-General",
)

SUBJECT_PHRASES = (
    "The participants", "Ministers", "The co-chairs", "Partners", "The Group", "Delegations",
    "The host", "Senior officials", "Members", "The Coalition", "Leaders", "The meeting",
)
VERBS = (
    "reaffirmed", "welcomed", "underscored", "condemned", "expressed concern about", "called for",
    "committed to supporting", "recognized", "noted with appreciation", "agreed to strengthen",
    "highlighted", "encouraged", "reviewed", "took stock of", "emphasized the urgency of",
)
OBJECTS = (
    "the importance of {topic}", "regional efforts on {topic}", "the implementation of the joint "
    "action plan on {topic}", "continued cooperation on {topic} with civil society",
    "the work of national authorities on {topic}", "a coordinated response to {topic} challenges",
    "sustained financing for {topic} programmes", "the central role of the United Nations in {topic}",
    "the outcomes of the previous meeting on {topic}", "new commitments on {topic}",
)
TAILS = (
    "", " in {region}", " and agreed to meet again next year", " in line with international law",
    " through enhanced cooperation among all partners", " with the support of regional organisations",
    " while respecting the sovereignty and territorial integrity of all states",
    " and the need for full, equal and meaningful participation of women",
    " in close consultation with affected communities",
)
LIST_ITEMS = (
    "strengthen information sharing on {topic}", "support capacity building in {region}",
    "mobilise additional resources for {topic}", "report on progress at the next meeting",
    "coordinate assistance with international financial institutions",
    "protect civilians and critical infrastructure", "promote accountability for abuses",
    "expand partnerships with the private sector on {topic}", "align national strategies on {topic}",
)
HEADINGS = ("Next steps", "Commitments", "Regional developments", "Humanitarian situation", "Annex")
TABLE_HEADERS = ("Commitment", "Partner", "Amount (USD million)", "Year")

FRENCH_SUBJECTS = ("Les participants", "Les ministres", "Les coprésidents", "Les partenaires",
                   "Les délégations", "Le Groupe")
FRENCH_VERBS = ("ont réaffirmé", "ont salué", "ont souligné", "ont condamné", "ont appelé à",
                "se sont engagés à soutenir", "ont reconnu", "ont examiné")
FRENCH_OBJECTS = ("l'importance de la coopération régionale", "la mise en œuvre du plan d'action",
                  "le rôle central des Nations unies", "le financement durable des programmes",
                  "la protection des civils", "les engagements pris lors de la réunion précédente")
FRENCH_TAILS = ("", " dans la région", " conformément au droit international",
                " en étroite consultation avec les communautés concernées",
                " avec le soutien des organisations régionales")
FRENCH_TYPES: dict[str, str] = {
    "joint-statement": "Déclaration conjointe", "joint-communique": "Communiqué conjoint",
    "declaration": "Déclaration", "chairs-statement": "Déclaration de la présidence",
    "readout": "Compte rendu", "statement": "Déclaration",
}
