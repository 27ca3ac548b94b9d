"""Payment files as a bank checks them: NACHA structure and controls, SEPA pain.001 schema."""
from datetime import date, datetime

import pytest

from vrm_dashboard.rails import nacha_file, sepa_file
from vrm_dashboard.rails.base import RailError, Transfer


def _transfer(n: int, **overrides) -> Transfer:
    values = dict(transaction_id=n, reference=f"VRM{n:012d}", idempotency_key=f"key-{n}", vendor_code=f"V{n}",
                  beneficiary=f"Vendör {n} Studios LLC", amount_minor=10_000 + n * 37, currency="USD",
                  execution_date=date(2026, 12, 1), description=f"VRM{n:012d} payout",
                  account_number=f"00012345{n:04d}", routing_number=["021000021", "011000015", "122105155"][n % 3],
                  iban="DE89370400440532013000", bic="COBADEFFXXX")
    values.update(overrides)
    return Transfer(**values)


def _nacha(count: int) -> tuple[list[Transfer], list[str]]:
    transfers = [_transfer(n) for n in range(1, count + 1)]
    built = nacha_file.build(transfers, "VRM Dashboard Demo GmbH", "1234567890", "021000021", "021000021",
                             datetime(2026, 11, 30, 14, 5))
    return transfers, built.content.decode("ascii").splitlines()


@pytest.mark.parametrize("count", [1, 7, 8, 25])
def test_a_nacha_file_has_94_character_records_in_blocks_of_ten(count):
    _transfers, lines = _nacha(count)
    assert all(len(line) == 94 for line in lines)
    assert len(lines) % 10 == 0
    kinds = "".join(line[0] for line in lines)
    assert kinds == "15" + "6" * count + "89" + "9" * (len(lines) - count - 4)
    assert all(line == "9" * 94 for line in lines[count + 4:])


def test_nacha_controls_carry_counts_entry_hash_and_totals():
    transfers, lines = _nacha(12)
    entries = [line for line in lines if line[0] == "6"]
    batch_control = next(line for line in lines if line[0] == "8")
    file_control = next(line for line in lines if line[0] == "9" and line != "9" * 94)
    assert len(entries) == 12
    # Entry detail fields, by position.
    assert [e[1:3] for e in entries] == ["22"] * 12
    assert [e[3:12] for e in entries] == [t.routing_number for t in transfers]
    assert [int(e[29:39]) for e in entries] == [t.amount_minor for t in transfers]
    assert [e[39:54].strip() for e in entries] == [t.reference for t in transfers]
    assert [e[79:94] for e in entries] == [f"02100002{n:07d}" for n in range(1, 13)]
    entry_hash = sum(int(t.routing_number[:8]) for t in transfers) % 10**10
    total = sum(t.amount_minor for t in transfers)
    assert int(batch_control[4:10]) == 12
    assert int(batch_control[10:20]) == entry_hash
    assert int(batch_control[20:32]) == 0 and int(batch_control[32:44]) == total
    assert batch_control[1:4] == "220"
    assert int(file_control[1:7]) == 1                        # batches
    assert int(file_control[7:13]) == len(lines) // 10        # blocks
    assert int(file_control[13:21]) == 12                     # entries and addenda
    assert int(file_control[21:31]) == entry_hash
    assert int(file_control[31:43]) == 0 and int(file_control[43:55]) == total
    header = lines[0]
    assert header[0:3] == "101" and header[3:13] == " 021000021" and header[34:37] == "094"
    # Names go to ASCII upper case for the bank (ö becomes O).
    assert entries[0][54:76] == "VENDOR 1 STUDIOS LLC".ljust(22)


def test_nacha_refuses_what_a_bank_would_reject():
    with pytest.raises(RailError, match="routing"):
        nacha_file.build([_transfer(1, routing_number="12345")], "Payer", "1234567890", "021000021", "021000021",
                         datetime(2026, 11, 30))
    with pytest.raises(RailError, match="US dollars"):
        nacha_file.build([_transfer(1, currency="EUR")], "Payer", "1234567890", "021000021", "021000021",
                         datetime(2026, 11, 30))


def test_a_sepa_file_passes_the_pain_001_schema_and_carries_each_transfer_once():
    transfers = [_transfer(n, currency="EUR") for n in range(1, 51)]
    built = sepa_file.build(transfers, "VRM Dashboard Demo GmbH", "DE89370400440532013000", "COBADEFFXXX", "EUR")
    assert sepa_file.schema_errors(built.content) == []
    text = built.content.decode()
    assert all(text.count(f"<EndToEndId>{t.reference}</EndToEndId>") == 1 for t in transfers)
    assert "<NbOfTxs>50</NbOfTxs>" in text
    control_sum = sum(t.amount_minor for t in transfers)
    assert f"<CtrlSum>{control_sum // 100}.{control_sum % 100:02d}</CtrlSum>" in text


def test_the_schema_check_catches_a_broken_file():
    transfers = [_transfer(1, currency="EUR")]
    built = sepa_file.build(transfers, "Payer", "DE89370400440532013000", "COBADEFFXXX", "EUR")
    broken = built.content.replace(b"<IBAN>DE89370400440532013000</IBAN>", b"<IBAN>not an iban</IBAN>", 1)
    assert sepa_file.schema_errors(broken)
