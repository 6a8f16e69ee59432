"""What the ISAK 35 and PSAK 109 statements say, in Bahasa Indonesia and English, and how
they write amounts (in the statement's currency without its symbol, as Indonesian financial
statements do under "(Dinyatakan dalam Rupiah)"; a negative figure in parentheses, zero as
"-").

The Indonesian wording follows the terms of ISAK 35 and PSAK 109 as they are commonly
published (*aset neto tanpa / dengan pembatasan dari pemberi sumber daya*, *aset neto yang
berakhir pembatasannya*, *laporan perubahan dana*); it could not be checked against IAI's
primary text here (README, "ISAK 35 and PSAK 109 statements").
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal

from reports.pdf.localization import BABEL_LOCALES, WHOLE_UNIT_CURRENCIES, Language

CURRENCY_NAMES: dict[Language, dict[str, str]] = {
    "id": {"IDR": "Rupiah", "USD": "Dolar Amerika Serikat"},
    "en": {"IDR": "Rupiah", "USD": "US Dollars"},
}

LABELS: dict[Language, dict[str, str]] = {
    "id": {
        "isak35_title": "Laporan Keuangan (ISAK 35)",
        "psak109_title": "Laporan Perubahan Dana (PSAK 109)",
        "financial_position": "LAPORAN POSISI KEUANGAN",
        "comprehensive_income": "LAPORAN PENGHASILAN KOMPREHENSIF",
        "changes_in_net_assets": "LAPORAN PERUBAHAN ASET NETO",
        "changes_in_funds": "LAPORAN PERUBAHAN DANA",
        "notes": "CATATAN ATAS LAPORAN KEUANGAN",
        "as_of": "Per {day}",
        "for_period": "Untuk periode {first} sampai dengan {last}",
        "expressed": "(Dinyatakan dalam {currency})",
        "npwp": "NPWP {npwp}",
        "page": "Halaman {page} dari ",
        "footer": "{size} entri pertama log {origin} · bertanda tangan digital (PAdES)",
        "footer_unlogged": "Dokumen ini belum dicatat di log: angka dapat dihitung ulang dari log (as_of={size}).",
        # financial position
        "h.assets": "ASET",
        "h.current_assets": "Aset lancar",
        "assets.cash": "Kas dan setara kas (dana yang dikelola)",
        "assets.total": "JUMLAH ASET",
        "h.liabilities": "LIABILITAS",
        "liabilities.total": "Jumlah liabilitas (tidak ada yang dicatat oleh ledger ini)",
        "h.net_assets": "ASET NETO",
        "net_assets.without": "Tanpa pembatasan dari pemberi sumber daya",
        "net_assets.with": "Dengan pembatasan dari pemberi sumber daya",
        "net_assets.total": "Jumlah aset neto",
        "liabilities_and_net_assets.total": "JUMLAH LIABILITAS DAN ASET NETO",
        # comprehensive income
        "h.without": "TANPA PEMBATASAN DARI PEMBERI SUMBER DAYA",
        "h.with": "DENGAN PEMBATASAN DARI PEMBERI SUMBER DAYA",
        "h.revenue": "Pendapatan",
        "h.expenses": "Beban",
        "h.program": "Beban program (penyaluran kepada penerima manfaat)",
        "without.revenue.donations": "Sumbangan",
        "without.revenue.released": "Aset neto yang berakhir pembatasannya",
        "without.revenue.reclassified": "Reklasifikasi dari dana dengan pembatasan (transfer antardana)",
        "without.revenue.total": "Jumlah pendapatan",
        "program_fund": "Program {name}",
        "without.expenses.program": "Jumlah beban program",
        "without.expenses.fees": "Beban penggalangan dana dan operasional",
        "without.expenses.total": "Jumlah beban",
        "without.surplus": "Surplus (defisit)",
        "with.revenue.donations": "Sumbangan",
        "with.released": "Aset neto yang berakhir pembatasannya",
        "with.reclassified": "Reklasifikasi ke dana tanpa pembatasan (transfer antardana)",
        "with.surplus": "Surplus (defisit)",
        "total.surplus": "JUMLAH SURPLUS (DEFISIT)",
        "other_comprehensive_income": "Penghasilan komprehensif lain",
        "total.comprehensive_income": "TOTAL PENGHASILAN KOMPREHENSIF",
        # changes in net assets
        "h.total_net_assets": "JUMLAH ASET NETO",
        "opening": "Saldo awal",
        "surplus_period": "Surplus (defisit) periode berjalan",
        "closing": "Saldo akhir",
        # PSAK 109
        "h.zakat": "DANA ZAKAT",
        "h.infak": "DANA INFAK/SEDEKAH",
        "h.amil": "DANA AMIL",
        "h.non_halal": "DANA NONHALAL",
        "h.receipts": "Penerimaan",
        "h.distributions": "Penyaluran",
        "h.use": "Penggunaan",
        "zakat.receipts": "Penerimaan dana zakat dari muzaki",
        "zakat.amil_share": "Bagian amil atas penerimaan dana zakat",
        "zakat.receipts_after_amil": "Jumlah penerimaan dana zakat setelah bagian amil",
        "infak.receipts": "Penerimaan dana infak/sedekah",
        "infak.amil_share": "Bagian amil atas penerimaan dana infak/sedekah",
        "infak.receipts_after_amil": "Jumlah penerimaan dana infak/sedekah setelah bagian amil",
        "amil.share_from_zakat": "Bagian amil dari dana zakat",
        "amil.share_from_infak": "Bagian amil dari dana infak/sedekah",
        "amil.receipts": "Penerimaan lainnya",
        "amil.receipts_total": "Jumlah penerimaan dana amil",
        "non_halal.receipts": "Penerimaan dana nonhalal",
        "transfers": "Transfer antardana lainnya (bersih)",
        "distributions": "Penyaluran kepada mustahik (penerima manfaat)",
        "fees": "Beban operasional dan penggalangan dana",
        "distributions_total": "Jumlah penyaluran",
        "amil.distributions_total": "Jumlah penggunaan dana amil",
        "surplus": "Surplus (defisit)",
        "total.funds_closing": "JUMLAH SALDO DANA ZAKAT, INFAK/SEDEKAH, AMIL DAN NONHALAL",
        "outside.closing": "Saldo dana lain di luar PSAK 109",
        # notes
        "n.basis": "1. Dasar penyusunan",
        "n.basis_isak35": (
            "Laporan ini disusun langsung dari posting berpasangan (double entry) log transparansi "
            "{origin}, menurut tanggal valuta (zona waktu {zone}), untuk periode {first} sampai "
            "dengan {last}. Aset neto diklasifikasikan menurut ISAK 35 berdasarkan klasifikasi "
            "setiap dana yang tercatat di log (fund.classified). Seluruh beban disajikan dalam "
            "kelompok tanpa pembatasan; beban yang dibayar dari dana dengan pembatasan "
            "disajikan sebagai aset neto yang berakhir pembatasannya. Transfer antara dana dari "
            "kelas berbeda disajikan sebagai reklasifikasi. Koreksi dihitung pada periode tanggal "
            "efektifnya. Ledger ini tidak mencatat liabilitas, aset tetap, maupun piutang; kas "
            "adalah jumlah saldo dana. Laporan arus kas (PSAK 2) dan catatan lain tidak termasuk."
        ),
        "n.basis_psak109": (
            "Laporan ini disusun langsung dari posting berpasangan (double entry) log transparansi "
            "{origin}, menurut tanggal valuta (zona waktu {zone}), untuk periode {first} sampai "
            "dengan {last}. Setiap dana dikelompokkan menurut PSAK 109 (dana zakat, infak/sedekah, "
            "amil, nonhalal) berdasarkan klasifikasinya di log (fund.classified). Bagian amil "
            "adalah transfer dari dana zakat atau infak/sedekah ke dana amil. Koreksi dihitung "
            "pada periode tanggal efektifnya."
        ),
        "n.funds": "2. Dana dan klasifikasinya",
        "col.fund": "Dana",
        "col.isak35": "ISAK 35",
        "col.psak109": "PSAK 109",
        "col.opening": "Saldo awal",
        "col.closing": "Saldo akhir",
        "class.with": "dengan pembatasan",
        "class.without": "tanpa pembatasan",
        "zclass.zakat": "zakat",
        "zclass.infak": "infak/sedekah",
        "zclass.amil": "amil",
        "zclass.non_halal": "nonhalal",
        "zclass.none": "-",
        "n.amil": "3. Bagian amil dibandingkan batasnya",
        "amil.period": "Periode ini: bagian amil {amil} dari zakat {zakat}",
        "amil.cumulative": "Kumulatif s.d. akhir periode: {amil} dari zakat {zakat}",
        "amil.cap": "Batas organisasi (org.profile): {cap} dari zakat, paling banyak {allowed}",
        "amil.within": "Dalam batas",
        "amil.over": "MELEBIHI BATAS",
        "amil.no_zakat": "tidak ada zakat diterima",
        "n.log": "{n}. Log transparansi",
        "log.origin": "Asal log",
        "log.size": "Entri yang dihitung",
        "log.checkpoint": "Checkpoint bertanda tangan",
        "log.no_checkpoint": "belum ada checkpoint yang mencakup entri ini",
        "log.checkpoint_value": "ukuran {size}, akar {root}",
        "log.recompute": (
            "Angka-angka ini dapat dihitung ulang oleh siapa pun dari log publik: "
            "GET /v1/orgs/{org}/financial-statements?standard={standard}&from={first}&to={to}&as_of={size}"
        ),
    },
    "en": {
        "isak35_title": "Financial Statements (ISAK 35)",
        "psak109_title": "Statement of Changes in Funds (PSAK 109)",
        "financial_position": "STATEMENT OF FINANCIAL POSITION",
        "comprehensive_income": "STATEMENT OF COMPREHENSIVE INCOME",
        "changes_in_net_assets": "STATEMENT OF CHANGES IN NET ASSETS",
        "changes_in_funds": "STATEMENT OF CHANGES IN FUNDS",
        "notes": "NOTES TO THE FINANCIAL STATEMENTS",
        "as_of": "As of {day}",
        "for_period": "For the period from {first} to {last}",
        "expressed": "(Expressed in {currency})",
        "npwp": "NPWP (tax id) {npwp}",
        "page": "Page {page} of ",
        "footer": "First {size} entries of the log {origin} · digitally signed (PAdES)",
        "footer_unlogged": "This document is not recorded in the log yet: its figures can be recomputed from the log (as_of={size}).",
        "h.assets": "ASSETS",
        "h.current_assets": "Current assets",
        "assets.cash": "Cash and cash equivalents (funds held)",
        "assets.total": "TOTAL ASSETS",
        "h.liabilities": "LIABILITIES",
        "liabilities.total": "Total liabilities (none recorded by this ledger)",
        "h.net_assets": "NET ASSETS",
        "net_assets.without": "Without restrictions from resource providers",
        "net_assets.with": "With restrictions from resource providers",
        "net_assets.total": "Total net assets",
        "liabilities_and_net_assets.total": "TOTAL LIABILITIES AND NET ASSETS",
        "h.without": "WITHOUT RESTRICTIONS FROM RESOURCE PROVIDERS",
        "h.with": "WITH RESTRICTIONS FROM RESOURCE PROVIDERS",
        "h.revenue": "Revenue",
        "h.expenses": "Expenses",
        "h.program": "Program expenses (paid to beneficiaries)",
        "without.revenue.donations": "Donations",
        "without.revenue.released": "Net assets released from restrictions",
        "without.revenue.reclassified": "Reclassified from restricted funds (transfers between funds)",
        "without.revenue.total": "Total revenue",
        "program_fund": "Program {name}",
        "without.expenses.program": "Total program expenses",
        "without.expenses.fees": "Fundraising and operating expenses",
        "without.expenses.total": "Total expenses",
        "without.surplus": "Surplus (deficit)",
        "with.revenue.donations": "Donations",
        "with.released": "Net assets released from restrictions",
        "with.reclassified": "Reclassified to funds without restrictions (transfers between funds)",
        "with.surplus": "Surplus (deficit)",
        "total.surplus": "TOTAL SURPLUS (DEFICIT)",
        "other_comprehensive_income": "Other comprehensive income",
        "total.comprehensive_income": "TOTAL COMPREHENSIVE INCOME",
        "h.total_net_assets": "TOTAL NET ASSETS",
        "opening": "Opening balance",
        "surplus_period": "Surplus (deficit) for the period",
        "closing": "Closing balance",
        "h.zakat": "ZAKAT FUND",
        "h.infak": "INFAK/SEDEKAH FUND",
        "h.amil": "AMIL FUND",
        "h.non_halal": "NON-HALAL FUND",
        "h.receipts": "Receipts",
        "h.distributions": "Distributions",
        "h.use": "Use of funds",
        "zakat.receipts": "Zakat received from muzakki",
        "zakat.amil_share": "Amil share of zakat received",
        "zakat.receipts_after_amil": "Zakat received after the amil share",
        "infak.receipts": "Infak/sedekah received",
        "infak.amil_share": "Amil share of infak/sedekah received",
        "infak.receipts_after_amil": "Infak/sedekah received after the amil share",
        "amil.share_from_zakat": "Amil share from the zakat fund",
        "amil.share_from_infak": "Amil share from the infak/sedekah fund",
        "amil.receipts": "Other receipts",
        "amil.receipts_total": "Total amil fund receipts",
        "non_halal.receipts": "Non-halal receipts",
        "transfers": "Other transfers between funds (net)",
        "distributions": "Distributed to mustahik (beneficiaries)",
        "fees": "Operating and fundraising expenses",
        "distributions_total": "Total distributions",
        "amil.distributions_total": "Total use of the amil fund",
        "surplus": "Surplus (deficit)",
        "total.funds_closing": "TOTAL ZAKAT, INFAK/SEDEKAH, AMIL AND NON-HALAL FUNDS",
        "outside.closing": "Other funds outside PSAK 109 (closing balance)",
        "n.basis": "1. Basis of preparation",
        "n.basis_isak35": (
            "These statements are computed directly from the double-entry postings of the "
            "transparency log {origin}, by value date (time zone {zone}), for the period from "
            "{first} to {last}. Net assets are classed under ISAK 35 by each fund's "
            "classification recorded in the log (fund.classified). Every expense is presented "
            "without restrictions; what restricted funds spent is presented as net assets "
            "released from restrictions. Transfers between funds of different classes are "
            "presented as reclassifications. Corrections count in the period of their effective "
            "date. This ledger records no liabilities, fixed assets or receivables; cash is the "
            "sum of the fund balances. The statement of cash flows (PSAK 2) and other notes are "
            "not included."
        ),
        "n.basis_psak109": (
            "This statement is computed directly from the double-entry postings of the "
            "transparency log {origin}, by value date (time zone {zone}), for the period from "
            "{first} to {last}. Each fund is grouped under PSAK 109 (zakat, infak/sedekah, amil, "
            "non-halal) by its classification recorded in the log (fund.classified). The amil "
            "share is what zakat or infak/sedekah funds transferred to amil funds. Corrections "
            "count in the period of their effective date."
        ),
        "n.funds": "2. Funds and their classes",
        "col.fund": "Fund",
        "col.isak35": "ISAK 35",
        "col.psak109": "PSAK 109",
        "col.opening": "Opening",
        "col.closing": "Closing",
        "class.with": "with restrictions",
        "class.without": "without restrictions",
        "zclass.zakat": "zakat",
        "zclass.infak": "infak/sedekah",
        "zclass.amil": "amil",
        "zclass.non_halal": "non-halal",
        "zclass.none": "-",
        "n.amil": "3. The amil share against its cap",
        "amil.period": "This period: amil share {amil} of zakat {zakat}",
        "amil.cumulative": "Up to the end of the period: {amil} of zakat {zakat}",
        "amil.cap": "The organization's cap (org.profile): {cap} of zakat, at most {allowed}",
        "amil.within": "Within the cap",
        "amil.over": "OVER THE CAP",
        "amil.no_zakat": "no zakat received",
        "n.log": "{n}. Transparency log",
        "log.origin": "Log origin",
        "log.size": "Entries counted",
        "log.checkpoint": "Signed checkpoint",
        "log.no_checkpoint": "no checkpoint covers these entries yet",
        "log.checkpoint_value": "size {size}, root {root}",
        "log.recompute": (
            "Anyone can recompute these figures from the public log: "
            "GET /v1/orgs/{org}/financial-statements?standard={standard}&from={first}&to={to}&as_of={size}"
        ),
    },
}
"""Every sentence the financial statements print, per language."""


def figure(amount: int, currency: str, minor_units: int, lang: Language) -> str:
    """An amount as a statement column shows it: ``12.500.000``, ``(1.500.000)``, ``-``."""
    if amount == 0:
        return "-"
    value = Decimal(abs(amount)).scaleb(-minor_units)
    digits = minor_units
    if currency in WHOLE_UNIT_CURRENCIES and amount % 10**minor_units == 0:
        digits = 0
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    text = format_decimal(
        value, format=pattern, locale=BABEL_LOCALES[lang], decimal_quantization=True
    )
    return f"({text})" if amount < 0 else text


def percent(bps: int | None, lang: Language) -> str:
    """Basis points as a percentage with two decimals (``12,50%`` / ``12.50%``)."""
    if bps is None:
        return "-"
    whole, frac = divmod(bps, 100)
    sep = "," if lang == "id" else "."
    return f"{whole}{sep}{frac:02d}%"
