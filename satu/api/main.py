from ninja import NinjaAPI

api = NinjaAPI(title="Satu API", version="1", urls_namespace="api")
