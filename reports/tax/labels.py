"""What tax receipts and reports print, in Bahasa Indonesia and English; ``{name}`` marks a
value. The Indonesian text is the one a tax office reads; the English one is a translation
for donors and auditors."""

from __future__ import annotations

from reports.pdf.localization import Language

CATEGORY_NAMES: dict[Language, dict[str, str]] = {
    "id": {
        "zakat": "Zakat",
        "disaster": "Sumbangan penanggulangan bencana nasional",
        "education": "Sumbangan fasilitas pendidikan",
        "research": "Sumbangan penelitian dan pengembangan",
        "sport": "Sumbangan pembinaan olahraga",
        "social_infrastructure": "Biaya pembangunan infrastruktur sosial",
    },
    "en": {
        "zakat": "Zakat",
        "disaster": "Donation for national disaster relief",
        "education": "Donation for education facilities",
        "research": "Donation for research and development",
        "sport": "Donation for sport development",
        "social_infrastructure": "Cost of building social infrastructure",
    },
}
"""The tax categories as PP 93/2010 art. 1 names them (zakat: PMK 114/2025)."""

TAX_LABELS: dict[Language, dict[str, str]] = {
    "id": {
        "zakat_title": "Bukti Setor Zakat",
        "gift_title": "Bukti Sumbangan yang Dapat Dikurangkan dari Penghasilan Bruto",
        "gift_title_short": "Bukti Sumbangan (PP 93/2010)",
        "number": "Nomor bukti",
        "date": "Tanggal setor",
        "issued": "Diterbitkan",
        "amount": "Jumlah",
        "in_words": "Terbilang",
        "payer_section": "Pembayar",
        "payer_name": "Nama lengkap",
        "payer_npwp": "NPWP",
        "payer_nik": "NIK",
        "recipient_section": "Penerima",
        "recipient_name": "Nama badan",
        "recipient_npwp": "NPWP badan",
        "zakat_license": "Izin / SK pengelola zakat",
        "address": "Alamat",
        "gift_section": "Pembayaran",
        "category": "Jenis",
        "fund": "Program / dana",
        "zakat_basis": (
            "Zakat yang dibayarkan kepada badan amil zakat atau lembaga amil zakat yang "
            "dibentuk atau disahkan pemerintah dapat dikurangkan dari penghasilan bruto "
            "(UU PPh pasal 9 ayat (1) huruf g; PMK 114/2025 pasal 9). Bukti ini memuat nomor "
            "dan tanggal, NPWP atau NIK dan nama lengkap pembayar, jumlah, nama dan NPWP "
            "penerima, serta validasi berupa tanda tangan elektronik."
        ),
        "gift_basis": (
            "Sumbangan dalam kategori ini dapat dikurangkan dari penghasilan bruto pemberi "
            "(PP 93/2010; PMK 76/2011) paling banyak 5% (lima persen) dari penghasilan neto "
            "pemberi tahun pajak sebelumnya, dengan bukti yang sah; penerima wajib memiliki "
            "NPWP."
        ),
        "validation_section": "Validasi",
        "validation_text": (
            "Bukti ini ditandatangani secara elektronik oleh {org} (tanda tangan PAdES; "
            "periksa di pembaca PDF atau dengan pdfsig). Pembayarannya tercatat sebagai entri "
            "{index} pada log transparansi {origin} (ukuran pohon {size}, hash akar {root}); "
            "bukti offline terlampir ({files}) dan dapat diperiksa dengan "
            "ledger-verify receipt, atau dengan memindai kode QR."
        ),
        "scan": "Pindai untuk memeriksa",
        "signed_by": "Ditandatangani secara elektronik oleh {org} (NPWP {npwp}).",
        "attachments": "Lampiran: {files}",
        "page": "Halaman {page} dari {pages}",
        "personal": "Berisi data pribadi pembayar: hanya untuk pembayar yang bersangkutan.",
        # the reports
        "zakat_report_title": "Laporan Penerimaan Zakat Tahun {year}",
        "disaster_report_title": (
            "Laporan Penerimaan Sumbangan Penanggulangan Bencana Triwulan {quarter} Tahun {year}"
        ),
        "period": "Periode",
        "due": "Batas penyampaian",
        "total": "Jumlah diterima",
        "total_row": "Jumlah",
        "rows": "{count} pembayaran",
        "identified": "{count} dengan NPWP/NIK dan nama lengkap,",
        "identified_total": "berjumlah {amount}",
        "log": "Log transparansi",
        "log_size": "Ukuran log saat disusun (entri yang dicakup)",
        "report_intro_zakat": (
            "Daftar zakat yang diterima {org} (NPWP {npwp}) dengan tanggal terima (tanggal "
            "valuta, menurut kalender organisasi) dalam periode ini, untuk dilaporkan ke "
            "Direktorat Jenderal Pajak paling lambat 14 hari setelah tahun berakhir (PMK "
            "114/2025). Pembayaran yang dibatalkan tidak dihitung dan didaftar terpisah."
        ),
        "report_intro_disaster": (
            "Daftar sumbangan penanggulangan bencana yang diterima {org} (NPWP {npwp}) "
            "dengan tanggal terima dalam triwulan ini, untuk laporan triwulanan penerima "
            "sumbangan (PP 93/2010; PMK 76/2011). Sumbangan yang dibatalkan tidak dihitung "
            "dan didaftar terpisah."
        ),
        "report_layout_note": (
            "Susunan kolom ini disusun oleh sistem ini; format formulir resmi DJP belum dapat "
            "dipastikan. Berkas CSV dengan baris yang sama terlampir ({file})."
        ),
        "col_no": "No",
        "col_number": "Nomor bukti",
        "col_date": "Tanggal",
        "col_type": "ID",
        "col_id": "NPWP / NIK",
        "col_name": "Nama lengkap",
        "col_fund": "Dana",
        "col_amount": "Jumlah",
        "no_id": "(tidak diberikan)",
        "reversed_section": "Pembayaran yang dibatalkan (tidak dihitung)",
        "reversed_row": "dibatalkan oleh entri #{index} ({day})",
        "report_personal": (
            "Berisi data pribadi para pembayar: hanya untuk organisasi, auditornya dan "
            "kantor pajak."
        ),
    },
    "en": {
        "zakat_title": "Zakat Payment Receipt",
        "gift_title": "Receipt for a Donation Deductible from Gross Income",
        "gift_title_short": "Donation Receipt (PP 93/2010)",
        "number": "Receipt number",
        "date": "Date paid",
        "issued": "Issued",
        "amount": "Amount",
        "in_words": "In words",
        "payer_section": "Payer",
        "payer_name": "Full name",
        "payer_npwp": "NPWP (tax id)",
        "payer_nik": "NIK (identity number)",
        "recipient_section": "Recipient",
        "recipient_name": "Name of the body",
        "recipient_npwp": "NPWP of the body",
        "zakat_license": "Zakat licence / decree",
        "address": "Address",
        "gift_section": "Payment",
        "category": "Kind",
        "fund": "Fund",
        "zakat_basis": (
            "Zakat paid to a zakat body formed or approved by the government may be deducted "
            "from gross income (Income Tax Law art. 9(1)(g); PMK 114/2025 art. 9). This "
            "receipt carries its number and date, the payer's NPWP or NIK and full name, the "
            "amount, the recipient's name and NPWP, and an electronic signature as its "
            "validation."
        ),
        "gift_basis": (
            "A donation in this category may be deducted from the donor's gross income "
            "(PP 93/2010; PMK 76/2011) up to 5% (five percent) of the donor's net income of "
            "the previous tax year, with valid proof; the recipient must have an NPWP."
        ),
        "validation_section": "Validation",
        "validation_text": (
            "This receipt is electronically signed by {org} (a PAdES signature: check it in a "
            "PDF reader or with pdfsig). The payment is recorded as entry {index} of the "
            "transparency log {origin} (tree size {size}, root hash {root}); the offline "
            "proof is attached ({files}) and checks with ledger-verify receipt, or scan the "
            "QR code."
        ),
        "scan": "Scan to check",
        "signed_by": "Electronically signed by {org} (NPWP {npwp}).",
        "attachments": "Attachments: {files}",
        "page": "Page {page} of {pages}",
        "personal": "Holds the payer's personal data: for that payer only.",
        "zakat_report_title": "Zakat Receipts Report {year}",
        "disaster_report_title": "Disaster Relief Donations Report, Quarter {quarter} of {year}",
        "period": "Period",
        "due": "Due at the tax office",
        "total": "Total received",
        "total_row": "Total",
        "rows": "{count} payments",
        "identified": "{count} with an NPWP/NIK and full name,",
        "identified_total": "totalling {amount}",
        "log": "Transparency log",
        "log_size": "Log size when gathered (entries covered)",
        "report_intro_zakat": (
            "The zakat {org} (NPWP {npwp}) received with a value date (in the "
            "organization's calendar) in this period, to be reported to the Directorate "
            "General of Taxes within 14 days after the year ends (PMK 114/2025). Reversed "
            "payments do not count and are listed apart."
        ),
        "report_intro_disaster": (
            "The disaster relief donations {org} (NPWP {npwp}) received with a value date "
            "in this quarter, for the recipient's quarterly report (PP 93/2010; PMK 76/2011). "
            "Reversed donations do not count and are listed apart."
        ),
        "report_layout_note": (
            "This column layout is this system's own; the official DJP e-form layout could "
            "not be confirmed. A CSV file with the same rows is attached ({file})."
        ),
        "col_no": "No",
        "col_number": "Receipt no.",
        "col_date": "Date",
        "col_type": "ID",
        "col_id": "NPWP / NIK",
        "col_name": "Full name",
        "col_fund": "Fund",
        "col_amount": "Amount",
        "no_id": "(not given)",
        "reversed_section": "Reversed payments (not counted)",
        "reversed_row": "reversed by entry #{index} ({day})",
        "report_personal": (
            "Holds the payers' personal data: for the organization, its auditor and the tax "
            "office only."
        ),
    },
}
