"""Fixed facts of the demo company: PT Satu Niaga Nusantara, a Jakarta
distributor of food, beverages and household goods with two outlets and a
warehouse in Cikarang."""

COMPANY = {
    "name": "Satu Niaga",
    "legal_name": "PT Satu Niaga Nusantara",
    "npwp_base": "01734521",
    "tax_office": "073",
    "address": (
        "Jl. Boulevard Raya Blok QJ 3 No. 12, Kelapa Gading, Jakarta Utara 14240"
    ),
    "phone": "+62 21 4585 2100",
    "email": "halo@satuniaga.co.id",
    "website": "https://www.satuniaga.co.id",
    "currency": "IDR",
    "country": "ID",
    "time_zone": "Asia/Jakarta",
    "bank_accounts": [
        {
            "bank_name": "Bank Central Asia",
            "account_number": "0353012345",
            "currency": "IDR",
        },
        {
            "bank_name": "Bank Mandiri",
            "account_number": "1250007654321",
            "currency": "IDR",
        },
    ],
    "outlets": [
        {
            "code": "OUT-KG",
            "name": "Outlet Kelapa Gading",
            "address": "Jl. Boulevard Barat Raya No. 8, Kelapa Gading, "
            "Jakarta Utara 14240",
        },
        {
            "code": "OUT-SBY",
            "name": "Outlet Surabaya Rungkut",
            "address": "Jl. Raya Rungkut Industri No. 45, Surabaya 60293",
        },
    ],
    "warehouses": [
        {
            "code": "WH-CKR",
            "name": "Gudang Cikarang",
            "address": "Kawasan Industri Jababeka II Blok C 7, Cikarang, Bekasi 17530",
        },
    ],
}

# Role of each employee (roles from satu.core.roles); 50 in all.
STAFF = [
    ("administrator", 1),
    ("director", 1),
    ("head_of_sales", 2),
    ("sales_manager", 28),
    ("marketer", 3),
    ("accountant", 3),
    ("warehouse", 12),
]

# The login printed for each role; the others are firstname.lastname.
ROLE_LOGINS = {
    "administrator": "sysadmin",
    "director": "director",
    "head_of_sales": "head",
    "sales_manager": "sales",
    "marketer": "marketing",
    "accountant": "accounting",
    "warehouse": "warehouse",
}

CLIENT_GROUPS = [
    ("Retail", "Shops, minimarkets and supermarkets."),
    ("Wholesale", "Grosir buying by the pallet."),
    ("Distributor", "Regional distributors reselling our range."),
    ("Horeca", "Hotels, restaurants and cafés."),
    ("Government", "Ministries, regional offices and state companies."),
]

# Parent channel -> children (None: a top-level channel without children).
CHANNELS = {
    "Exhibitions": [
        "Trade fair Jakarta",
        "SIAL Interfood",
        "Food & Hotel Indonesia",
        "Surabaya Expo",
    ],
    "Online": ["Website", "Google Ads", "Instagram", "Tokopedia"],
    "Referral": None,
    "Cold call": None,
}

INDUSTRIES = [
    "Retail",
    "Food & beverage",
    "Hospitality",
    "Construction",
    "Manufacturing",
    "Healthcare",
    "Education",
    "Public sector",
]

# City, province, landline area code, postcode prefix.
CITIES = [
    ("Jakarta Pusat", "DKI Jakarta", "21", "10"),
    ("Jakarta Utara", "DKI Jakarta", "21", "14"),
    ("Jakarta Selatan", "DKI Jakarta", "21", "12"),
    ("Jakarta Barat", "DKI Jakarta", "21", "11"),
    ("Jakarta Timur", "DKI Jakarta", "21", "13"),
    ("Tangerang", "Banten", "21", "15"),
    ("Bekasi", "Jawa Barat", "21", "17"),
    ("Bogor", "Jawa Barat", "251", "16"),
    ("Depok", "Jawa Barat", "21", "16"),
    ("Bandung", "Jawa Barat", "22", "40"),
    ("Surabaya", "Jawa Timur", "31", "60"),
    ("Sidoarjo", "Jawa Timur", "31", "61"),
    ("Malang", "Jawa Timur", "341", "65"),
    ("Semarang", "Jawa Tengah", "24", "50"),
    ("Yogyakarta", "DI Yogyakarta", "274", "55"),
    ("Denpasar", "Bali", "361", "80"),
    ("Medan", "Sumatera Utara", "61", "20"),
    ("Makassar", "Sulawesi Selatan", "411", "90"),
    ("Palembang", "Sumatera Selatan", "711", "30"),
    ("Balikpapan", "Kalimantan Timur", "542", "76"),
]
# Where the clients are: mostly around the outlets.
CITY_WEIGHTS = [9, 8, 8, 6, 6, 7, 6, 3, 3, 5, 9, 3, 2, 3, 2, 3, 3, 2, 1, 1]

STREETS = [
    "Jl. Jenderal Sudirman",
    "Jl. M.H. Thamrin",
    "Jl. Gatot Subroto",
    "Jl. Ahmad Yani",
    "Jl. Diponegoro",
    "Jl. Gajah Mada",
    "Jl. Hayam Wuruk",
    "Jl. Pemuda",
    "Jl. Merdeka",
    "Jl. Veteran",
    "Jl. Pahlawan",
    "Jl. Raya Bogor",
    "Jl. Raya Serpong",
    "Jl. Kapten Tendean",
    "Jl. Panglima Polim",
    "Jl. Mangga Dua Raya",
    "Jl. Pluit Raya",
    "Jl. Daan Mogot",
    "Jl. Basuki Rahmat",
    "Jl. Tunjungan",
    "Jl. Asia Afrika",
    "Jl. Braga",
    "Jl. Dago",
    "Jl. Malioboro",
    "Jl. Pandanaran",
    "Jl. Sunset Road",
    "Jl. Gatot Subroto Barat",
    "Jl. Sam Ratulangi",
    "Jl. Imam Bonjol",
    "Jl. Kebon Jeruk Raya",
    "Jl. Hasyim Ashari",
]

# Trade names: "<prefix> <word> <word>".
ID_WORDS = [
    "Sumber",
    "Makmur",
    "Jaya",
    "Abadi",
    "Sentosa",
    "Mandiri",
    "Sejahtera",
    "Berkah",
    "Karya",
    "Mitra",
    "Cahaya",
    "Sinar",
    "Mulia",
    "Agung",
    "Prima",
    "Utama",
    "Nusantara",
    "Bintang",
    "Indah",
    "Lestari",
    "Maju",
    "Bersama",
    "Gemilang",
    "Rejeki",
    "Harapan",
    "Sukses",
    "Tunas",
    "Baru",
    "Anugerah",
    "Setia",
    "Bahagia",
    "Cipta",
    "Kencana",
    "Permata",
    "Surya",
    "Samudra",
    "Rahayu",
    "Mekar",
    "Wijaya",
    "Perkasa",
]
EN_WORDS = [
    "Golden",
    "Pacific",
    "Harbor",
    "Summit",
    "Eastern",
    "Star",
    "Global",
    "Prime",
    "Green",
    "Blue Ocean",
    "Evergreen",
    "Sunrise",
    "Royal",
    "Silver",
    "Crown",
    "Metro",
    "Unity",
    "Horizon",
    "Bright",
    "Orchid",
    "Lotus",
    "Coral",
    "Island",
    "Harvest",
]
ID_TRADES = [
    "Toko",
    "Toko Grosir",
    "Swalayan",
    "Minimarket",
    "Warung",
    "Rumah Makan",
    "Kedai",
    "Restoran",
    "Hotel",
    "Katering",
    "Apotek",
    "Toko Bangunan",
    "Koperasi",
]
EN_TRADES = [
    "Trading",
    "Supplies",
    "Distribution",
    "Foods",
    "Mart",
    "Hotel",
    "Café",
    "Kitchen",
    "Provisions",
    "Logistics",
    "Wholesale",
    "Catering",
]
GOVERNMENT = [
    "Dinas Pendidikan",
    "Dinas Kesehatan",
    "Kantor Kecamatan",
    "RSUD",
    "Sekretariat Daerah",
    "Badan Pusat Statistik",
    "Dinas Perhubungan",
    "Politeknik Negeri",
]
LEGAL_FORMS = [("PT", 70), ("CV", 25), ("UD", 5)]

INDUSTRY_BY_GROUP = {
    "Retail": ["Retail", "Food & beverage"],
    "Wholesale": ["Retail", "Food & beverage", "Manufacturing"],
    "Distributor": ["Food & beverage", "Manufacturing", "Retail"],
    "Horeca": ["Hospitality", "Food & beverage"],
    "Government": ["Public sector", "Education", "Healthcare"],
}

CONTACT_ROLES = [
    "Owner",
    "Purchasing",
    "Finance",
    "Store manager",
    "Procurement",
    "Direktur",
    "Kepala Gudang",
    "Admin",
    "Chef",
    "Accounting",
]
POSITIONS = {
    "Owner": "Pemilik",
    "Purchasing": "Purchasing Manager",
    "Finance": "Finance Manager",
    "Store manager": "Store Manager",
    "Procurement": "Procurement Officer",
    "Direktur": "Direktur Utama",
    "Kepala Gudang": "Kepala Gudang",
    "Admin": "Staf Admin",
    "Chef": "Executive Chef",
    "Accounting": "Staf Akunting",
}
MAIL_HOSTS = ["gmail.com", "yahoo.co.id", "gmail.com", "outlook.com", "gmail.com"]
MOBILE_PREFIXES = [
    "811",
    "812",
    "813",
    "821",
    "822",
    "852",
    "853",
    "855",
    "856",
    "857",
    "858",
    "877",
    "878",
    "881",
    "895",
    "896",
]
BANKS = [
    ("Bank Central Asia", 10),
    ("Bank Mandiri", 13),
    ("Bank Rakyat Indonesia", 15),
    ("Bank Negara Indonesia", 10),
    ("CIMB Niaga", 13),
    ("Bank Danamon", 10),
]
# Big tax offices (KPP) of the cities above, for believable NPWP tails.
TAX_OFFICES = [
    "011",
    "012",
    "013",
    "014",
    "015",
    "016",
    "017",
    "018",
    "019",
    "021",
    "024",
    "025",
    "026",
    "027",
    "028",
    "029",
    "031",
    "036",
    "041",
    "043",
    "044",
    "045",
    "046",
    "048",
    "051",
    "052",
    "054",
    "055",
    "056",
    "073",
    "092",
    "415",
    "416",
    "431",
    "441",
    "602",
    "606",
    "609",
    "614",
    "617",
]

NOTES = [
    "Prefers deliveries before 10:00; the loading dock closes at noon.",
    "Pays by transfer within 30 days; send invoices to the finance email.",
    "Asked for a price list for the Lebaran season.",
    "Interested in our private-label rice and cooking oil.",
    "Visited the Kelapa Gading outlet; wants a monthly standing order.",
    "Minta penawaran harga untuk minyak goreng dan gula pasir.",
    "Pembayaran tempo 14 hari, konfirmasi via WhatsApp.",
    "Requires halal certificates with every delivery.",
]
TIMELINE_NOTES = [
    "Call with purchasing about the monthly order",
    "Sent the new price list",
    "Visited the store; shelf space for our snacks agreed",
    "Met at the trade fair; samples promised",
    "Kunjungan ke toko, diskusi promo bulan depan",
    "Telepon: menanyakan stok minyak goreng",
    "Complaint about a late delivery resolved",
    "Quotation for year-end hampers requested",
]
