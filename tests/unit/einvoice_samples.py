"""An EN 16931 invoice as the factur-x package's data dictionary, to build CII and UBL samples."""
INVOICE = {
    "BT-1": "FX-2026-0042", "BT-2": "2026-10-15", "BT-3": "380", "BT-5": "EUR", "BT-9": "2026-11-14",
    "BT-72": "2026-10-15",
    "BG-4": {"name": "Kestrel Media GmbH", "vat_identifier": "DE136695976", "country_code": "DE", "city": "Berlin",
             "postcode": "10115", "addr_l1": "Hauptstr. 1"},
    "BG-7": {"name": "VRM Example Corp", "country_code": "FR", "city": "Paris", "postcode": "75001",
             "addr_l1": "1 rue de la Paix"},
    "BT-84": "DE89370400440532013000", "BT-81": "58",
    "BT-106": "200.00", "BT-109": "200.00", "BT-110": "38.00", "BT-112": "238.00", "BT-115": "238.00",
    "BG-23": [{"BT-116": "200.00", "BT-117": "38.00", "BT-118": "S", "BT-119": "19.00"}],
    "BG-25": [{"BT-126": "1", "BT-129": "2", "BT-130": "C62", "BT-131": "200.00", "BT-146": "100.00",
               "BT-151": "S", "BT-152": "19.00", "BT-153": "Sponsored post"}],
}
