"""What public statements say, in Bahasa Indonesia and English, and how they
name periods, entry kinds, purposes and ratios.

Numbers and dates follow :mod:`reports.pdf.localization` (CLDR ``id_ID`` / ``en_ID``
through Babel), so a statement and a receipt write ``Rp 1.250.000`` and dates
the same way. This module only adds the statement's own sentences.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_decimal

from reports.pdf.localization import BABEL_LOCALES, Language, format_day
from schemas import kinds

STATEMENT_LABELS: dict[Language, dict[str, str]] = {
    "id": {
        "title": "Laporan Keuangan Publik",
        "number": "Laporan No. {number}",
        "period": "Periode",
        "issued": "Diterbitkan",
        "provisional": "SEMENTARA",
        "provisional_band": "SEMENTARA · PROVISIONAL — diterbitkan sebelum periode berakhir",
        "provisional_note": (
            "SEMENTARA: laporan ini diterbitkan sebelum periodenya berakhir. Entri yang dicatat "
            "sesudah indeks #{end} tidak termasuk; laporan berikutnya untuk periode yang sama "
            "dapat memuatnya."
        ),
        "scope": "Cakupan",
        "scope_all": "Seluruh dana dan penerima manfaat",
        "scope_fund": "Dana {name} ({code})",
        "scope_beneficiary": "Penerima manfaat {name} ({code})",
        "range": "Entri log",
        "range_value": "#{first} s.d. #{last} ({count} entri; ukuran pohon {start} → {end})",
        "range_empty": "tidak ada entri (ukuran pohon {start})",
        "summary_donations": "Donasi diterima",
        "summary_disbursed": "Disalurkan",
        "summary_fees": "Biaya & overhead",
        "summary_closing": "Saldo dana akhir",
        "net_note": "Semua jumlah dalam periode sudah memperhitungkan koreksi.",
        "funds_section": "Perubahan saldo per dana",
        "opening": "Saldo awal",
        "closing": "Saldo akhir",
        "donations": "Donasi",
        "disbursements": "Penyaluran",
        "fees": "Biaya",
        "transfers_in": "Transfer masuk",
        "transfers_out": "Transfer keluar",
        "overhead": "Rasio overhead periode",
        "overhead_cumulative": "Rasio overhead kumulatif",
        "cap": "batas {cap}",
        "within_cap": "dalam batas",
        "over_cap": "MELEBIHI BATAS",
        "chart_monthly": "Grafik: donasi masuk dan penyaluran per bulan",
        "chart_in": "masuk",
        "chart_out": "disalurkan",
        "chart_legend": "Batang penuh: donasi diterima; batang bergaris: penyaluran; per bulan tanggal valuta, setelah koreksi.",
        "chart_purpose": "Grafik: penyaluran per kategori",
        "chart_beneficiary": "Grafik: penyaluran per penerima manfaat",
        "chart_more": "dan {count} penerima lain: {amount}",
        "permit": "Izin PUB {number}: {start} s.d. {end}",
        "permit_part": "Izin PUB {number}: {start} s.d. {end} (tidak seluruh periode)",
        "permit_none": "Izin PUB {number} berakhir {end}: tidak mencakup periode ini",
        "permit_missing": "Izin PUB: tidak tercatat",
        "exempt_zakat": "Tanpa izin PUB: zakat dikecualikan",
        "exempt_place_of_worship": "Tanpa izin PUB: pengumpulan di tempat ibadah",
        "no_funds": "Tidak ada dana dalam cakupan ini.",
        "funds_paid": "Penyaluran per dana",
        "fund": "Dana",
        "beneficiaries_section": "Penyaluran per penerima manfaat",
        "beneficiary": "Penerima manfaat",
        "city": "Kota",
        "period_amount": "Dalam periode",
        "cumulative": "Kumulatif s.d. akhir",
        "no_beneficiaries": "Tidak ada penyaluran dalam periode ini.",
        "purposes_section": "Penyaluran per kategori",
        "purpose": "Kategori",
        "share": "Porsi",
        "balances_section": "Saldo akun (neraca saldo)",
        "account": "Akun",
        "movement": "Mutasi",
        "balances_total": "Jumlah {currency} (selalu nol)",
        "no_balances": "Belum ada saldo pada akun mana pun.",
        "account_donors": "donasi diterima (kontra-akun)",
        "account_fees": "biaya & overhead",
        "balances_note": (
            "Saldo awal = jumlah posting semua entri sebelum #{start} (ukuran pohon {start}); "
            "saldo akhir = jumlah posting semua entri sebelum #{end} (ukuran pohon {end}, "
            "GET /v1/orgs/{slug}/balances?as_of={end})."
        ),
        "entries_section": "Rincian entri",
        "col_index": "#",
        "col_date": "Tgl. nilai",
        "col_recorded": "Dicatat",
        "col_kind": "Jenis",
        "col_fund": "Dana",
        "col_counterparty": "Pihak / keterangan",
        "col_reference": "Referensi",
        "col_amount": "Jumlah",
        "no_entries": "Tidak ada entri dalam periode dan cakupan ini.",
        "late_section": "Entri terlambat untuk periode sebelumnya",
        "late_note": (
            "Dicatat setelah laporan untuk periode tanggal nilainya diterbitkan. Laporan yang sudah "
            "terbit tidak diubah; entri ini tercantum di sini sekali, sudah termasuk dalam saldo "
            "awal, dan tidak dalam total periode ini."
        ),
        "entries_note": (
            "Entri uang dipilih menurut tanggal nilai (kapan uang diterima atau dibayar), tanggal "
            "lokal zona {zone}; \"Dicatat\" = tanggal log mencatatnya. Koreksi ditampilkan tepat "
            "di bawah entri yang dikoreksinya; keduanya diberi tanda."
        ),
        "corrected_by": "dikoreksi oleh #{index}",
        "corrects": "koreksi atas #{index}",
        "anonymous": "Anonim",
        "statement_ref": "Laporan No. {number}",
        "records": "{count} catatan",
        "entries_count": "{count} entri ditampilkan",
        "integrity_section": "Bukti integritas log",
        "origin": "Asal log",
        "checkpoint_size": "Ukuran checkpoint",
        "root_hash": "Hash akar",
        "checkpoint": "Checkpoint bertanda tangan yang mencakup periode",
        "previous": "Laporan sebelumnya",
        "previous_value": "Laporan No. {number}: checkpoint ukuran {size}, akar {root}",
        "previous_none": "Tidak ada: ini laporan pertama organisasi.",
        "consistency": "Bukti konsistensi RFC 9162 dari ukuran {old} ke {new} ({count} hash, base64)",
        "consistency_empty": "Ukuran sama: bukti kosong, kedua akar harus sama.",
        "verify_section": "Cara memverifikasi",
        "verify_signature": (
            "Tanda tangan. PDF ini ditandatangani (PAdES) oleh {org}. Periksa di pembaca PDF atau "
            "dengan `pdfsig`, terhadap sertifikat di GET /v1/orgs/{slug}/certificate; tanda "
            "tangan harus mencakup seluruh berkas."
        ),
        "verify_checkpoint": (
            "Checkpoint. Lampiran {checkpoint} adalah checkpoint bertanda tangan di atas; periksa "
            "tanda tangannya dengan kunci publik log (GET /v1/orgs/{slug}/log/keys)."
        ),
        "verify_consistency": (
            "Tidak ada yang dihapus atau ditulis ulang sejak laporan sebelumnya. Simpan "
            "lampirannya, lalu jalankan (VKEY = kunci publik log):"
        ),
        "verify_first": (
            "Ini laporan pertama. Simpan checkpoint-nya: laporan berikutnya akan membuktikan "
            "bahwa log memperluasnya."
        ),
        "verify_completeness": (
            "Kelengkapan. Unduh log (GET /v1/orgs/{slug}/log/export) dan periksa dengan "
            "`ledger-verify log`. Entri #{start} s.d. #{last} harus sama dengan rincian di atas "
            "dan lampiran {json}; saldo adalah jumlah posting (docs/FORMAT.md), sehingga saldo "
            "awal dan akhir dapat dihitung ulang dari entri."
        ),
        "scan": "Pindai untuk halaman laporan",
        "signed_by": "Ditandatangani secara digital oleh {org}.",
        "attachments": "Lampiran: {files}",
        "page": "Halaman {page} dari ",
        "json_description": "Laporan dalam JSON (donation-ledger-statement/v1)",
        "checkpoint_description": "Checkpoint bertanda tangan (c2sp.org/tlog-checkpoint)",
        "proof_description": "Bukti konsistensi RFC 9162, satu hash base64 per baris",
        "continued": "lanjutan",
        "recipients_section": "Kata penerima sendiri",
        "recipients_summary": (
            "{currency}: {count} penyaluran, {disbursed}. Dikonfirmasi penerima: "
            "{acknowledged} ({acknowledged_amount}) · Disanggah: {disputed} "
            "({disputed_amount}; menurut penerima diterima {disputed_received}) · "
            "Menunggu konfirmasi: {awaiting} ({awaiting_amount})"
        ),
        "recipients_note": (
            "Status tiap penyaluran menurut tanda tangan penerimanya sendiri (kunci Ed25519 "
            "milik panti, bukan milik lembaga; docs/FORMAT.md §8), dari entri log sebelum "
            "#{end}. Tanda tangan yang dicatat kemudian tampil di laporan berikutnya; laporan "
            "ini tidak berubah. \"Menunggu\" dihitung sampai {as_of}. Penyaluran yang "
            "dikoreksi dalam laporan ini tidak dihitung."
        ),
        "recipients_none": "Tidak ada penyaluran dalam periode ini.",
        "disputes_title": "SANGGAHAN PENERIMA ({count})",
        "dispute_line": (
            "#{index} · {day} · {name}: dicatat disalurkan {amount}; penerima menandatangani "
            "bahwa yang diterima {received} (sanggahan entri #{entry}, {on})"
        ),
        "dispute_reversed": " · dikoreksi oleh #{index}",
        "ack_note": "✓ dikonfirmasi penerima (entri #{entry}, {on})",
        "disputed_note": "DISANGGAH penerima (entri #{entry}, {on}): diterima {received}",
        "awaiting_note": "menunggu konfirmasi penerima selama {days} hari",
    },
    "en": {
        "title": "Public Financial Statement",
        "number": "Statement No. {number}",
        "period": "Period",
        "issued": "Issued",
        "provisional": "PROVISIONAL",
        "provisional_band": "PROVISIONAL · SEMENTARA — issued before the period ended",
        "provisional_note": (
            "PROVISIONAL: this statement was issued before its period ended. Entries recorded "
            "after index #{end} are not included; a later statement for the same period may "
            "include them."
        ),
        "scope": "Scope",
        "scope_all": "All funds and beneficiaries",
        "scope_fund": "Fund {name} ({code})",
        "scope_beneficiary": "Beneficiary {name} ({code})",
        "range": "Log entries",
        "range_value": "#{first} to #{last} ({count} entries; tree size {start} → {end})",
        "range_empty": "no entries (tree size {start})",
        "summary_donations": "Donations received",
        "summary_disbursed": "Disbursed",
        "summary_fees": "Fees & overhead",
        "summary_closing": "Closing fund balance",
        "net_note": "All amounts of the period are net of corrections.",
        "funds_section": "Changes in fund balances",
        "opening": "Opening balance",
        "closing": "Closing balance",
        "donations": "Donations",
        "disbursements": "Disbursements",
        "fees": "Fees",
        "transfers_in": "Transfers in",
        "transfers_out": "Transfers out",
        "overhead": "Overhead ratio, period",
        "overhead_cumulative": "Overhead ratio, cumulative",
        "cap": "cap {cap}",
        "within_cap": "within cap",
        "over_cap": "OVER CAP",
        "chart_monthly": "Chart: donations in and disbursements out per month",
        "chart_in": "in",
        "chart_out": "disbursed",
        "chart_legend": "Solid bars: donations received; hatched bars: disbursements; per month of value date, after corrections.",
        "chart_purpose": "Chart: disbursements by category",
        "chart_beneficiary": "Chart: disbursements by beneficiary",
        "chart_more": "and {count} other beneficiaries: {amount}",
        "permit": "PUB permit {number}: {start} to {end}",
        "permit_part": "PUB permit {number}: {start} to {end} (not the whole period)",
        "permit_none": "PUB permit {number} ended {end}: it does not cover this period",
        "permit_missing": "PUB permit: none recorded",
        "exempt_zakat": "No PUB permit needed: zakat is exempt",
        "exempt_place_of_worship": "No PUB permit needed: a collection in a place of worship",
        "no_funds": "No fund in this scope.",
        "funds_paid": "Disbursements per fund",
        "fund": "Fund",
        "beneficiaries_section": "Disbursements per beneficiary",
        "beneficiary": "Beneficiary",
        "city": "City",
        "period_amount": "In the period",
        "cumulative": "Cumulative at close",
        "no_beneficiaries": "No disbursement in this period.",
        "purposes_section": "Disbursements per purpose",
        "purpose": "Purpose",
        "share": "Share",
        "balances_section": "Account balances (trial balance)",
        "account": "Account",
        "movement": "Movement",
        "balances_total": "Total {currency} (always zero)",
        "no_balances": "No account has a balance yet.",
        "account_donors": "donations received (contra)",
        "account_fees": "fees & overhead",
        "balances_note": (
            "Opening = sum of the postings of every entry before #{start} (tree size {start}); "
            "closing = sum of the postings of every entry before #{end} (tree size {end}, "
            "GET /v1/orgs/{slug}/balances?as_of={end})."
        ),
        "entries_section": "Entries",
        "col_index": "#",
        "col_date": "Value date",
        "col_recorded": "Recorded",
        "col_kind": "Kind",
        "col_fund": "Fund",
        "col_counterparty": "Counterparty / detail",
        "col_reference": "Reference",
        "col_amount": "Amount",
        "no_entries": "No entry in this period and scope.",
        "late_section": "Late entries for earlier periods",
        "late_note": (
            "Recorded after the statement for the period of their value date was issued. Issued "
            "statements are never changed; these entries are listed here once, are already in "
            "the opening balances, and are not in this period's totals."
        ),
        "entries_note": (
            "Money entries are selected by value date (when the money was received or paid), a "
            "local date of {zone}; \"Recorded\" = the date the log recorded it. A correction is "
            "shown right below the entry it corrects; both rows are marked."
        ),
        "corrected_by": "corrected by #{index}",
        "corrects": "corrects #{index}",
        "anonymous": "Anonymous",
        "statement_ref": "Statement No. {number}",
        "records": "{count} records",
        "entries_count": "{count} entries shown",
        "integrity_section": "Log integrity proof",
        "origin": "Log origin",
        "checkpoint_size": "Checkpoint size",
        "root_hash": "Root hash",
        "checkpoint": "Signed checkpoint covering the period",
        "previous": "Previous statement",
        "previous_value": "Statement No. {number}: checkpoint size {size}, root {root}",
        "previous_none": "None: this is the organization's first statement.",
        "consistency": "RFC 9162 consistency proof from size {old} to {new} ({count} hashes, base64)",
        "consistency_empty": "Equal sizes: the proof is empty and both roots must be equal.",
        "verify_section": "How to verify",
        "verify_signature": (
            "Signature. This PDF is signed (PAdES) by {org}. Check it in a PDF reader or with "
            "`pdfsig`, against the certificate at GET /v1/orgs/{slug}/certificate; the "
            "signature must cover the whole file."
        ),
        "verify_checkpoint": (
            "Checkpoint. The attachment {checkpoint} is the signed checkpoint above; check its "
            "signature with the log's public key (GET /v1/orgs/{slug}/log/keys)."
        ),
        "verify_consistency": (
            "Nothing was removed or rewritten since the previous statement. Save the "
            "attachments and run (VKEY = the log's public key):"
        ),
        "verify_first": (
            "This is the first statement. Keep its checkpoint: the next statement will prove "
            "that the log extends it."
        ),
        "verify_completeness": (
            "Completeness. Download the log (GET /v1/orgs/{slug}/log/export) and check it with "
            "`ledger-verify log`. Entries #{start} to #{last} must equal the list above and the "
            "attachment {json}; balances are sums of postings (docs/FORMAT.md), so the opening "
            "and closing balances can be recomputed from the entries."
        ),
        "scan": "Scan for the statement page",
        "signed_by": "Digitally signed by {org}.",
        "attachments": "Attachments: {files}",
        "page": "Page {page} of ",
        "json_description": "The statement as JSON (donation-ledger-statement/v1)",
        "checkpoint_description": "Signed checkpoint (c2sp.org/tlog-checkpoint)",
        "proof_description": "RFC 9162 consistency proof, one base64 hash a line",
        "continued": "continued",
        "recipients_section": "The recipients' own word",
        "recipients_summary": (
            "{currency}: {count} disbursements, {disbursed}. Acknowledged by the recipient: "
            "{acknowledged} ({acknowledged_amount}) · Disputed: {disputed} "
            "({disputed_amount}; received according to the recipient {disputed_received}) · "
            "Awaiting acknowledgment: {awaiting} ({awaiting_amount})"
        ),
        "recipients_note": (
            "Each disbursement's status as its recipient signed it with its own key (an "
            "Ed25519 key of the orphanage, not of the charity; docs/FORMAT.md §8), from the "
            "log entries before #{end}. A signature recorded later shows in the next "
            "statement; this one never changes. \"Awaiting\" is counted to {as_of}. "
            "Disbursements corrected in this statement are not counted."
        ),
        "recipients_none": "No disbursement in this period.",
        "disputes_title": "DISPUTED BY THE RECIPIENT ({count})",
        "dispute_line": (
            "#{index} · {day} · {name}: recorded as disbursed {amount}; the recipient signed "
            "that it received {received} (dispute entry #{entry}, {on})"
        ),
        "dispute_reversed": " · corrected by #{index}",
        "ack_note": "✓ acknowledged by the recipient (entry #{entry}, {on})",
        "disputed_note": "DISPUTED by the recipient (entry #{entry}, {on}): received {received}",
        "awaiting_note": "awaiting acknowledgment by the recipient for {days} days",
    },
}
"""Every sentence a statement prints, per language; ``{name}`` marks a value."""

KIND_LABELS: dict[Language, dict[str, str]] = {
    "id": {
        kinds.DONATION: "Donasi",
        kinds.DISBURSEMENT: "Penyaluran",
        kinds.TRANSFER: "Transfer",
        kinds.FEE: "Biaya",
        kinds.CORRECTION: "Koreksi",
        kinds.FUND_CREATED: "Dana dibuat",
        kinds.BENEFICIARY_REGISTERED: "Penerima baru",
        kinds.BENEFICIARY_UPDATED: "Penerima diubah",
        kinds.EVIDENCE_ATTACHED: "Bukti",
        kinds.STATEMENT_ISSUED: "Laporan",
        kinds.NOTE: "Catatan",
        kinds.LOG_CREATED: "Log dibuat",
        kinds.KEY_ROTATED: "Kunci diganti",
        kinds.KEY_RETIRED: "Kunci pensiun",
        kinds.DONOR_ERASED: "Data dihapus",
        kinds.BENEFICIARY_KEY: "Kunci",
        kinds.ACKNOWLEDGED: "Konfirmasi",
        kinds.DISPUTED: "Sanggahan",
    },
    "en": {
        kinds.DONATION: "Donation",
        kinds.DISBURSEMENT: "Disbursement",
        kinds.TRANSFER: "Transfer",
        kinds.FEE: "Fee",
        kinds.CORRECTION: "Correction",
        kinds.FUND_CREATED: "Fund created",
        kinds.BENEFICIARY_REGISTERED: "Beneficiary",
        kinds.BENEFICIARY_UPDATED: "Beneficiary upd.",
        kinds.EVIDENCE_ATTACHED: "Evidence",
        kinds.STATEMENT_ISSUED: "Statement",
        kinds.NOTE: "Note",
        kinds.LOG_CREATED: "Log created",
        kinds.KEY_ROTATED: "Key rotated",
        kinds.KEY_RETIRED: "Key retired",
        kinds.DONOR_ERASED: "Donor erased",
        kinds.BENEFICIARY_KEY: "Recipient key",
        kinds.ACKNOWLEDGED: "Acknowledged",
        kinds.DISPUTED: "Disputed",
    },
}
"""Short names of entry kinds for the entries table; an unknown kind prints as itself."""

PURPOSE_LABELS: dict[Language, dict[str, str]] = {
    "id": {
        "food": "Pangan",
        "education": "Pendidikan",
        "health": "Kesehatan",
        "shelter": "Tempat tinggal",
        "clothing": "Sandang",
        "operations": "Operasional",
        "other": "Lainnya",
    },
    "en": {
        "food": "Food",
        "education": "Education",
        "health": "Health",
        "shelter": "Shelter",
        "clothing": "Clothing",
        "operations": "Operations",
        "other": "Other",
    },
}
"""Disbursement purpose categories; an unknown purpose prints as itself."""

_QUARTERS = {"id": ("I", "II", "III", "IV"), "en": ("Q1", "Q2", "Q3", "Q4")}


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.month - 1 + months
    return day.replace(year=day.year + total // 12, month=total % 12 + 1)


def period_name(start: dt.date, end: dt.date, lang: Language) -> str:
    """A human name for the period [start, end): a month ("November 2026"), a quarter
    ("Triwulan IV 2026" / "Q4 2026"), a calendar year, a fiscal year ("Tahun buku
    2026/2027"), else the inclusive date range."""
    locale = BABEL_LOCALES[lang]
    if start.day == 1 and end.day == 1:
        if end == _add_months(start, 1):
            return format_date(start, format="LLLL y", locale=locale)
        if end == _add_months(start, 3) and start.month in (1, 4, 7, 10):
            quarter = _QUARTERS[lang][(start.month - 1) // 3]
            return f"Triwulan {quarter} {start.year}" if lang == "id" else f"{quarter} {start.year}"
        if end == _add_months(start, 12):
            if start.month == 1:
                return f"Tahun {start.year}" if lang == "id" else f"Year {start.year}"
            years = f"{start.year}/{end.year}"
            return f"Tahun buku {years}" if lang == "id" else f"Fiscal year {years}"
    return period_dates(start, end, lang)


def period_dates(start: dt.date, end: dt.date, lang: Language) -> str:
    """The period [start, end) as its inclusive local dates, the one label the PDFs and the
    site both print: ``1–31 Desember 2026``, ``1 November – 15 Desember 2026``,
    ``15 Desember 2026 – 14 Januari 2027``, ``1 Desember 2026`` (one day)."""
    last = end - dt.timedelta(days=1)
    locale = BABEL_LOCALES[lang]
    if last <= start:
        return format_day(start, lang)
    if (start.year, start.month) == (last.year, last.month):
        return f"{start.day}–{format_day(last, lang)}"
    if start.year == last.year:
        first = format_date(start, format="d MMMM", locale=locale)
        return f"{first} – {format_day(last, lang)}"
    return f"{format_day(start, lang)} – {format_day(last, lang)}"


def format_ratio(bps: int, lang: Language) -> str:
    """Basis points as a percentage with two decimals: 450 → ``4,50%``."""
    value = Decimal(bps).scaleb(-2)
    return format_decimal(value, format="#,##0.00", locale=BABEL_LOCALES[lang]) + "%"


def kind_label(kind: str, lang: Language) -> str:
    return KIND_LABELS[lang].get(kind, kind)


def purpose_label(purpose: str, lang: Language) -> str:
    return PURPOSE_LABELS[lang].get(purpose, purpose)


__all__ = [
    "KIND_LABELS",
    "PURPOSE_LABELS",
    "STATEMENT_LABELS",
    "format_ratio",
    "kind_label",
    "period_dates",
    "period_name",
    "purpose_label",
]
