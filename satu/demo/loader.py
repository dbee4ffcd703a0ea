"""`satu demo`: a believable Indonesian trading company, the same on every run.

Everything comes from one seeded `random.Random` and two seeded Faker
instances (en_US and id_ID), and business records are written through the
domains' services, so audit trail, timeline and search columns are real.
The whole load is one transaction: it lands completely or not at all.
"""

import logging
import random
import re
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from faker import Faker
from stdnum import luhn
from stdnum.id import npwp

from satu.billing import demo as billing_demo
from satu.catalog import demo as catalog_demo
from satu.catalog.models import Product
from satu.core import custom_fields, roles
from satu.core.models import SystemFlag, User
from satu.crm import demo as crm_demo
from satu.crm import demo_marketing
from satu.demo import data, trade
from satu.inventory import demo as inventory_demo
from satu.inventory.models import Warehouse
from satu.parties import services
from satu.parties.models import Client
from satu.purchasing import demo as purchasing_demo
from satu.purchasing.models import PurchaseOrder

logger = logging.getLogger(__name__)

DEFAULT_SEED = 2024
DEFAULT_CLIENTS = 2000
DEMO_FLAG = "demo"
COMPANY_FLAG = "company"
DEMO_PASSWORD = "demo"
ADMIN_LOGIN = ("admin", "admin")


class DemoRefused(Exception):
    """The database holds data that is not demo data."""


@dataclass
class Summary:
    users: int = 0
    clients: int = 0
    counterparties: int = 0
    contacts: int = 0
    products: int = 0
    warehouses: int = 0
    quotes: int = 0
    sales_orders: int = 0
    purchase_orders: int = 0
    invoices: int = 0
    payments: int = 0
    seconds: float = 0.0


def demo_state() -> str:
    """ "demo" (demo loaded), "foreign" (other data) or "empty"."""
    if SystemFlag.objects.filter(key=DEMO_FLAG).exists():
        return "demo"
    if User.objects.exists() or Client.objects.exists():
        return "foreign"
    return "empty"


def demo_logins() -> list[dict]:
    flag = SystemFlag.objects.filter(key=DEMO_FLAG).first()
    return list(flag.value.get("logins", [])) if flag else []


def npwp_number(base8: str, tax_office: str, branch: str = "000") -> str:
    """A 15-digit NPWP: 8 digits, the Luhn check digit over them, KPP, branch."""
    return base8 + luhn.calc_check_digit(base8) + tax_office + branch


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", plain.lower())


class _Generator:
    """Deterministic names, numbers and addresses."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.fake_id = Faker("id_ID")
        self.fake_id.seed_instance(seed)
        self.fake_en = Faker("en_US")
        self.fake_en.seed_instance(seed + 1)
        self._taken: dict[str, set] = {}

    def unique(self, kind: str, make, attempts: int = 50) -> str:
        taken = self._taken.setdefault(kind, set())
        for attempt in range(attempts):
            value = make(attempt)
            if value not in taken:
                taken.add(value)
                return value
        raise RuntimeError(f"cannot make a unique {kind}")

    def weighted(self, pairs):
        values, weights = zip(*pairs, strict=True)
        return self.rng.choices(values, weights=weights)[0]

    def person(self) -> tuple[str, str, bool]:
        """(first, last, indonesian): mostly Indonesian names, some English."""
        female = self.rng.random() < 0.45
        if self.rng.random() < 0.72:
            fake, indonesian = self.fake_id, True
        else:
            fake, indonesian = self.fake_en, False
        first = fake.first_name_female() if female else fake.first_name_male()
        return first, fake.last_name(), indonesian

    def mobile(self) -> str:
        prefix = self.rng.choice(data.MOBILE_PREFIXES)
        a, b = self.rng.randint(1000, 9999), self.rng.randint(1000, 9999)
        return f"+62 {prefix}-{a}-{b}"

    def landline(self, area: str) -> str:
        last = self.rng.randint(1000, 9999)
        if area == "21":
            return f"+62 21 {self.rng.randint(2000, 8999)} {last}"
        return f"+62 {area} {self.rng.randint(300, 899)} {last}"

    def city(self):
        return self.rng.choices(data.CITIES, weights=data.CITY_WEIGHTS)[0]

    def address(self, city) -> str:
        name, _province, _area, post = city
        street = self.rng.choice(data.STREETS)
        return (
            f"{street} No. {self.rng.randint(1, 250)}, {name} "
            f"{post}{self.rng.randint(100, 999)}"
        )

    def npwp(self, kind: str = "01") -> str:
        def make(_attempt):
            base = kind + f"{self.rng.randint(0, 999999):06d}"
            return npwp_number(base, self.rng.choice(data.TAX_OFFICES))

        return npwp.format(self.unique("npwp", make))

    def past_date(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randint(0, (end - start).days))


# Trade names by client group: (Indonesian patterns, English patterns).
TRADES = {
    "Retail": (
        ["Toko", "Swalayan", "Minimarket", "Warung", "Apotek"],
        ["Mart", "Store"],
    ),
    "Wholesale": (["Toko Grosir", "Koperasi", "Grosir"], ["Wholesale", "Trading"]),
    "Distributor": (["", ""], ["Distribution", "Trading", "Logistics", "Supplies"]),
    "Horeca": (
        ["Hotel", "Restoran", "Rumah Makan", "Kedai", "Katering"],
        ["Hotel", "Café", "Kitchen", "Catering"],
    ),
}


# Companies we buy from (counterparties without a client).
SUPPLIERS = [
    ("PT Sumber Pangan Makmur", "Jl. Industri Raya No. 18, Cikarang, Bekasi 17530"),
    ("PT Aneka Minuman Segar", "Jl. Raya Serang Km. 24, Balaraja, Tangerang 15610"),
    ("PT Kilau Bersih Indonesia", "Jl. Rungkut Industri III No. 7, Surabaya 60293"),
    ("CV Tirta Jaya Abadi", "Jl. Soekarno-Hatta No. 411, Bandung 40235"),
    ("PT Nusantara Snack Industri", "Jl. Gatot Subroto Km. 5, Tangerang 15136"),
    ("PT Rumah Tangga Sejahtera", "Jl. Kaligawe Raya No. 60, Semarang 50111"),
]


@contextmanager
def _quiet_pdf_log():
    """Rendering the sent quotes' PDFs logs every layout step at INFO."""
    pdf_log = logging.getLogger("weasyprint")
    level = pdf_log.level
    pdf_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        pdf_log.setLevel(level)


class DemoLoader:
    def __init__(
        self, *, seed: int = DEFAULT_SEED, clients: int = DEFAULT_CLIENTS, progress=None
    ):
        self.gen = _Generator(seed)
        self.rng = self.gen.rng
        self.seed = seed
        self.client_count = clients
        self.progress = progress or (lambda message: None)
        self.summary = Summary()
        self.today = timezone.localdate()

    # ------------------------------------------------------------ staff

    def create_staff(self) -> None:
        roles.sync_roles()
        groups = {g.name: g for g in Group.objects.filter(name__in=roles.ROLES)}
        demo_hash = make_password(DEMO_PASSWORD)
        users, memberships, logins = [], [], []
        admin = User(
            username=ADMIN_LOGIN[0],
            password=make_password(ADMIN_LOGIN[1]),
            first_name="Admin",
            last_name="Satu",
            email="admin@satuniaga.co.id",
            is_superuser=True,
            is_staff=True,
        )
        users.append(admin)
        memberships.append((admin, roles.ADMINISTRATOR))
        logins.append(
            {
                "username": ADMIN_LOGIN[0],
                "password": ADMIN_LOGIN[1],
                "role": "superuser",
            }
        )
        for role, count in data.STAFF:
            for index in range(count):
                first, last, _indonesian = self.gen.person()
                if index == 0:
                    username = data.ROLE_LOGINS[role]
                    logins.append(
                        {"username": username, "password": DEMO_PASSWORD, "role": role}
                    )
                else:
                    base = f"{_ascii(first)}.{_ascii(last)}"
                    username = self.gen.unique(
                        "username", lambda n, b=base: b if n == 0 else f"{b}{n + 1}"
                    )
                user = User(
                    username=username,
                    password=demo_hash,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@satuniaga.co.id",
                    phone=self.gen.mobile().replace(" ", "").replace("-", ""),
                )
                users.append(user)
                memberships.append((user, role))
        User.objects.bulk_create(users)
        created = {
            u.username: u
            for u in User.objects.filter(username__in=[u.username for u in users])
        }
        Membership = User.groups.through
        Membership.objects.bulk_create(
            [
                Membership(user_id=created[u.username].pk, group_id=groups[role].pk)
                for u, role in memberships
            ]
        )
        self.admin = created[ADMIN_LOGIN[0]]
        self.by_role: dict[str, list[User]] = {}
        for user, role in memberships[1:]:
            self.by_role.setdefault(role, []).append(created[user.username])
        self.logins = logins
        self.summary.users = len(users)

    # ------------------------------------------------------------ setup

    def create_reference_data(self) -> None:
        admin = self.admin
        self.groups = {
            name: services.client_group_create(actor=admin, name=name, description=text)
            for name, text in data.CLIENT_GROUPS
        }
        self.channels = []
        for parent_name, children in data.CHANNELS.items():
            parent = services.channel_create(actor=admin, name=parent_name)
            if not children:
                self.channels.append(parent)
            for child in children or []:
                self.channels.append(
                    services.channel_create(
                        actor=admin, name=child, parent_id=parent.pk
                    )
                )
        define = custom_fields.custom_field_create
        define(
            actor=admin,
            object_type="parties.client",
            code="industry",
            label="Industry",
            field_type="choice",
            choices=data.INDUSTRIES,
            position=1,
        )
        define(
            actor=admin,
            object_type="parties.client",
            code="credit_rating",
            label="Credit rating (0–100)",
            field_type="number",
            position=2,
        )
        define(
            actor=admin,
            object_type="parties.client",
            code="key_account",
            label="Key account",
            field_type="bool",
            position=3,
        )
        define(
            actor=admin,
            object_type="parties.contact",
            code="preferred_channel",
            label="Preferred channel",
            field_type="choice",
            choices=["WhatsApp", "Phone", "Email"],
            position=1,
        )
        define(
            actor=admin,
            object_type="parties.contact",
            code="birthday",
            label="Birthday",
            field_type="date",
            position=2,
        )
        define(
            actor=admin,
            object_type="parties.counterparty",
            code="pkp",
            label="VAT-registered (PKP)",
            field_type="bool",
            position=1,
        )

    def record_company(self) -> None:
        company = dict(data.COMPANY)
        company["npwp"] = npwp.format(
            npwp_number(company.pop("npwp_base"), company.pop("tax_office"))
        )
        SystemFlag.objects.update_or_create(
            key=COMPANY_FLAG, defaults={"value": company}
        )
        services.company_save(
            actor=None,
            code="SN",
            is_default=True,
            **{
                name: company[name]
                for name in services.COMPANY_FIELDS
                if name in company and name != "tax_id"
            },
            tax_id=company["npwp"],
        )

    # ------------------------------------------------------------ clients

    def _owners(self) -> list[User]:
        managers = self.by_role["sales_manager"] + self.by_role["head_of_sales"]
        weights = [self.rng.randint(1, 4) for _ in managers]
        return self.rng.choices(managers, weights=weights, k=self.client_count)

    def _trade_name(self, group: str, city) -> tuple[str, list[str], bool]:
        """(trade name, brand words, english) of a company client."""
        gen, rng = self.gen, self.rng
        if group == "Government":
            return f"{rng.choice(data.GOVERNMENT)} {city[0]}", [], False
        english = rng.random() < 0.3
        id_trades, en_trades = TRADES[group]
        if english:
            words = rng.sample(data.EN_WORDS, 1) + (
                [rng.choice(data.EN_WORDS)] if rng.random() < 0.2 else []
            )
            return " ".join(words + [rng.choice(en_trades)]), words, True
        if rng.random() < 0.15:
            # Family businesses named after the owner: "Toko Hendra", "UD Slamet".
            words = [gen.fake_id.first_name()]
        else:
            words = rng.sample(data.ID_WORDS, 2)
        trade = rng.choice(id_trades)
        return " ".join([trade, *words] if trade else words), words, False

    def _company_name(self, group: str, city):
        holder = {}

        def make(attempt):
            name, words, english = self._trade_name(group, city)
            if attempt > 5:
                name = f"{name} {city[0]}" if attempt < 20 else f"{name} {attempt}"
            holder.update(words=words, english=english)
            return name

        name = self.gen.unique("client", make)
        return name, holder["words"], holder["english"]

    def _client_fields(self, owner, index) -> dict:
        rng, gen = self.rng, self.gen
        city = gen.city()
        group = gen.weighted(
            [
                ("Retail", 40),
                ("Wholesale", 22),
                ("Distributor", 10),
                ("Horeca", 22),
                ("Government", 6),
            ]
        )
        person = group in {"Retail", "Horeca"} and rng.random() < 0.18
        status = gen.weighted(
            [("lead", 14), ("prospect", 20), ("client", 56), ("former", 10)]
        )
        key_account = status == "client" and rng.random() < 0.1
        custom = {
            "industry": rng.choice(data.INDUSTRY_BY_GROUP[group]),
            "credit_rating": rng.randint(70, 100)
            if key_account
            else rng.randint(20, 95),
            "key_account": key_account,
        }
        if status == "lead" and rng.random() < 0.5:
            del custom["credit_rating"]
        fields = {
            "kind": Client.Kind.PERSON if person else Client.Kind.COMPANY,
            "status": status,
            "owner_id": owner.pk,
            "group_ids": [self.groups[group].pk],
            "custom": custom,
            "source_channel_id": rng.choice(self.channels).pk,
            "region": city[1],
            "address": gen.address(city),
        }
        if group == "Wholesale" and rng.random() < 0.2:
            fields["group_ids"].append(self.groups["Retail"].pk)
        if rng.random() < 0.12:
            fields["notes"] = rng.choice(data.NOTES)
        if person:
            first, last, _indonesian = gen.person()
            full = f"{first} {last}"
            fields["name"] = gen.unique(
                "client", lambda n: full if n == 0 else f"{full} ({city[0]})"
            )
            fields["phone"] = gen.mobile()
            fields["email"] = (
                f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99)}@"
                + rng.choice(data.MAIL_HOSTS)
            )
            return fields | {
                "_words": [],
                "_english": False,
                "_city": city,
                "_group": group,
            }
        name, words, english = self._company_name(group, city)
        domain = _ascii(" ".join(words) or name)[:30] or f"client{index}"
        tld = ".com" if english else ".co.id"
        if group == "Government":
            domain, tld = _ascii(name)[:30], ".go.id"
        fields["name"] = name
        fields["phone"] = gen.landline(city[2])
        if rng.random() < 0.85:
            mailbox = rng.choice(["info", "sales", "admin", "order"])
            fields["email"] = f"{mailbox}@{domain}{tld}"
        if rng.random() < 0.55:
            fields["website"] = f"https://www.{domain}{tld}"
        return fields | {
            "_words": words,
            "_english": english,
            "_city": city,
            "_group": group,
            "_domain": f"{domain}{tld}",
        }

    def _legal_name(self, fields) -> str:
        rng = self.rng
        if fields["_group"] == "Government":
            return fields["name"]
        form = self.gen.weighted(data.LEGAL_FORMS)
        words = fields["_words"] or rng.sample(data.ID_WORDS, 2)
        if fields["_english"]:
            tail = "Indonesia" if rng.random() < 0.6 else rng.choice(data.ID_WORDS)
            return f"{form} {' '.join(words)} {tail}"
        extra = rng.choice(data.ID_WORDS)
        return (
            f"{form} {' '.join(words)} {extra}"
            if extra not in words
            else f"{form} {' '.join(words)}"
        )

    def _bank_accounts(self) -> list[dict]:
        if self.rng.random() > 0.6:
            return []
        bank, digits = self.gen.weighted([(b, 1) for b in data.BANKS])
        number = "".join(str(self.rng.randint(0, 9)) for _ in range(digits))
        return [{"bank_name": bank, "account_number": number}]

    def _counterparties(self, owner, client, fields) -> None:
        gen, rng = self.gen, self.rng
        kind = (
            "00" if fields["_group"] == "Government" else rng.choice(["01", "02", "03"])
        )
        address = fields["address"]
        story = rng.random()
        if story < 0.05:
            # Traded through an older CV until it was replaced by a PT.
            started = gen.past_date(date(2012, 1, 1), date(2017, 12, 31))
            ended = gen.past_date(date(2019, 1, 1), date(2023, 6, 30))
            old_name = self._legal_name(fields).replace("PT ", "CV ", 1)
            old = services.counterparty_create(
                actor=owner,
                legal_name=old_name,
                tax_id=gen.npwp(kind),
                registration_address=address,
                valid_from=started,
                client_id=client.pk,
                custom={"pkp": False},
            )
            link = old.client_links.get(client=client)
            services.counterparty_link_end(actor=owner, link_id=link.pk, valid_to=ended)
            self.summary.counterparties += 1
            start = ended + timedelta(days=1)
        else:
            start = gen.past_date(date(2015, 1, 1), date(2024, 12, 31))
        legal_name = self._legal_name(fields)
        cp = services.counterparty_create(
            actor=owner,
            legal_name=legal_name,
            tax_id=gen.npwp(kind),
            registration_address=address,
            valid_from=start,
            client_id=client.pk,
            bank_accounts=self._bank_accounts(),
            custom={"pkp": rng.random() < 0.7},
        )
        self.summary.counterparties += 1
        if 0.05 <= story < 0.14 and start < date(2024, 6, 30):
            # A dated change of legal name (and sometimes of address).
            renamed = gen.past_date(start + timedelta(days=180), date(2025, 6, 30))
            if legal_name.startswith("CV "):
                new_name = legal_name.replace("CV ", "PT ", 1)
            else:
                suffix = rng.choice(["Sejahtera", "Indonesia", "Nusantara"])
                new_name = f"{legal_name} {suffix}"
            changes = {"legal_name": new_name}
            if rng.random() < 0.4:
                changes["registration_address"] = gen.address(gen.city())
            services.counterparty_update(
                actor=owner, counterparty_id=cp.pk, effective_date=renamed, **changes
            )
        if fields["_group"] in {"Distributor", "Wholesale"} and rng.random() < 0.06:
            services.counterparty_create(
                actor=owner,
                legal_name=f"{legal_name} Cabang {fields['_city'][0]}",
                tax_id=gen.npwp(kind),
                registration_address=gen.address(fields["_city"]),
                valid_from=gen.past_date(start, date(2025, 6, 30)),
                client_id=client.pk,
            )
            self.summary.counterparties += 1

    def _contacts(self, owner, client, fields) -> list[int]:
        gen, rng = self.gen, self.rng
        count = 1 + (rng.random() < 0.35) + (rng.random() < 0.08)
        chosen = rng.sample(data.CONTACT_ROLES, count)
        ids = []
        for position, role in enumerate(chosen):
            first, last, _indonesian = gen.person()
            phones = [gen.mobile()]
            if rng.random() < 0.2:
                phones.append(gen.landline(fields["_city"][2]))
            domain = fields.get("_domain")
            if domain and rng.random() < 0.7:
                local = (
                    f"{_ascii(first)}.{_ascii(last)}"
                    if rng.random() < 0.6
                    else _ascii(first)
                )
                emails = [f"{local}@{domain}"]
            elif rng.random() < 0.6:
                emails = [
                    f"{_ascii(first)}{_ascii(last)[:6]}{rng.randint(1, 999)}@"
                    f"{rng.choice(data.MAIL_HOSTS)}"
                ]
            else:
                emails = []
            custom = {
                "preferred_channel": gen.weighted(
                    [("WhatsApp", 6), ("Phone", 2), ("Email", 2)]
                )
            }
            if rng.random() < 0.3:
                custom["birthday"] = gen.past_date(date(1960, 1, 1), date(2000, 12, 31))
            contact = services.contact_create(
                actor=owner,
                first_name=first,
                last_name=last,
                position=data.POSITIONS[role],
                phones=phones,
                emails=emails,
                custom=custom,
                client_roles=[
                    {"client_id": client.pk, "role": role, "is_primary": position == 0}
                ],
            )
            ids.append(contact.pk)
        self.summary.contacts += len(ids)
        return ids

    def _history(self, owner, client, final_status: str) -> None:
        rng = self.rng
        if final_status == "client" and rng.random() < 0.4:
            services.client_update(actor=owner, client_id=client.pk, status="client")
        elif final_status == "former":
            services.client_update(actor=owner, client_id=client.pk, status="former")
        if rng.random() < 0.25:
            now = timezone.now()
            for _ in range(rng.randint(1, 3)):
                services.timeline_record(
                    client_id=client.pk,
                    kind="note",
                    actor=owner,
                    summary=rng.choice(data.TIMELINE_NOTES),
                    at=now
                    - timedelta(days=rng.randint(1, 400), minutes=rng.randint(0, 600)),
                )

    def create_clients(self) -> None:
        owners = self._owners()
        # The first contact of each manager's latest company client.
        last_contact: dict[int, int] = {}
        for index, owner in enumerate(owners):
            fields = self._client_fields(owner, index)
            final_status = fields["status"]
            if final_status == "client" and self.rng.random() < 0.4:
                fields["status"] = "prospect"
            elif final_status == "former":
                fields["status"] = "client"
            create = {k: v for k, v in fields.items() if not k.startswith("_")}
            client = services.client_create(actor=owner, allow_duplicate=True, **create)
            self.summary.clients += 1
            if fields["kind"] == Client.Kind.COMPANY:
                self._counterparties(owner, client, fields)
                if owner.pk in last_contact and self.rng.random() < 0.04:
                    # A buyer who works for two businesses of the same manager.
                    services.contact_link(
                        actor=owner,
                        contact_id=last_contact[owner.pk],
                        client_id=client.pk,
                        role="Purchasing",
                    )
                contact_ids = self._contacts(owner, client, fields)
                last_contact[owner.pk] = contact_ids[0]
            self._history(owner, client, final_status)
            if (index + 1) % 250 == 0:
                self.progress(f"{index + 1} of {self.client_count} clients")

    # ------------------------------------------------------------ trade

    def create_suppliers(self) -> list:
        actor = self.by_role["accountant"][0]
        suppliers = []
        for legal_name, address in SUPPLIERS:
            suppliers.append(
                services.counterparty_create(
                    actor=actor,
                    legal_name=legal_name,
                    tax_id=self.gen.npwp("01"),
                    registration_address=address,
                    valid_from=date(2016, 1, 1),
                    custom={"pkp": True},
                )
            )
        self.summary.counterparties += len(suppliers)
        return suppliers

    def _seeded(self, part: str) -> random.Random:
        return random.Random(f"{part}-{self.seed}")

    def load_stock_and_money(self) -> None:
        """Warehouses and opening stock, cash accounts and contracts,
        supplier prices and purchase orders (after the catalog)."""
        self.products = list(Product.objects.order_by("pk"))
        self.summary.products = len(self.products)
        self.progress("inventory: warehouses and opening stock")
        inventory_demo.load(
            rng=self._seeded("inventory"),
            products=self.products,
            company=data.COMPANY,
            progress=self.progress,
        )
        # The main warehouse first, then the others, then the outlets.
        self.warehouses = sorted(
            Warehouse.objects.order_by("pk"), key=lambda w: (w.is_outlet, w.pk)
        )
        self.summary.warehouses = len(self.warehouses)
        self.suppliers = self.create_suppliers()
        billing_demo.load(rng=self._seeded("billing"), progress=self.progress)
        # Work-around: purchasing's demo receives its orders without naming
        # lots, which inventory refuses (LotRequired) for lot/serial-tracked
        # goods; it gets the untracked products only.
        purchasing_demo.load(
            rng=self._seeded("purchasing"),
            products=[p for p in self.products if p.tracking == Product.Tracking.NONE],
            warehouses=self.warehouses,
            suppliers=self.suppliers,
            progress=self.progress,
        )

    def load_marketing_and_trade(self) -> None:
        demo_marketing.load_marketing(
            rng=self._seeded("marketing"),
            clients=Client.objects.order_by("pk"),
            users=User.objects.order_by("pk").prefetch_related("groups"),
            progress=self.progress,
        )
        counts = trade.load(
            rng=self._seeded("trade"),
            warehouses=self.warehouses,
            products=self.products,
            suppliers=self.suppliers,
            orders=max(40, self.client_count // 5),
            progress=self.progress,
        )
        self.summary.quotes = counts.get("quotes", 0)
        self.summary.sales_orders = counts.get("orders", 0)
        self.summary.invoices = counts.get("invoices", 0)
        self.summary.payments = counts.get("payments", 0)
        self.summary.purchase_orders = PurchaseOrder.objects.count()

    # ------------------------------------------------------------ all

    def run(self) -> Summary:
        started = time.monotonic()
        # Sent quotes e-mail their PDF when the load commits: the demo
        # clients are invented, so nothing leaves the machine.
        no_mail = override_settings(
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"
        )
        with no_mail, _quiet_pdf_log(), transaction.atomic():
            state = demo_state()
            if state != "empty":
                raise DemoRefused(state)
            self.create_staff()
            self.create_reference_data()
            self.record_company()
            self.create_clients()
            catalog_demo.load(
                actor=self.admin, seed=self.seed, client_groups=self.groups
            )
            self.load_stock_and_money()
            crm_demo.load(
                rng=self.rng,
                deals=self.client_count * 2 // 5,
                progress=self.progress,
            )
            self.load_marketing_and_trade()
            SystemFlag.objects.update_or_create(
                key=DEMO_FLAG,
                defaults={
                    "value": {
                        "loaded_at": timezone.now().isoformat(),
                        "seed": self.seed,
                        "clients": self.summary.clients,
                        "logins": self.logins,
                    }
                },
            )
        self.summary.seconds = round(time.monotonic() - started, 1)
        return self.summary


def load(
    *, seed: int = DEFAULT_SEED, clients: int = DEFAULT_CLIENTS, progress=None
) -> Summary:
    """Load the demo company into an empty database (one transaction).

    Raises DemoRefused when the database is not empty.
    """
    return DemoLoader(seed=seed, clients=clients, progress=progress).run()
