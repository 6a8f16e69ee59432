"""What the public site says, in Bahasa Indonesia (the default) and English.

Every visible string of the templates and of the browser verifier comes from ``STRINGS``, so
a page never mixes languages and a missing translation fails loudly (``KeyError``) in tests
rather than showing a key to a donor. The language is chosen by ``?lang=id|en``; anything
else falls back to Indonesian, the language of the people the ledger serves first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from ledger.charity.acknowledgments import ACKNOWLEDGED_SAID, DISPUTED_SAID
from ledger.messages import translate

Lang = Literal["id", "en"]
"""A site language."""

LANGUAGES: tuple[Lang, ...] = ("id", "en")
DEFAULT_LANG: Lang = "id"
LANGUAGE_NAMES: dict[Lang, str] = {"id": "Bahasa Indonesia", "en": "English"}
"""Each language named in itself, as a language switch should show it."""

STRINGS: dict[str, tuple[str, str]] = {
    # --- frame ------------------------------------------------------------------------------
    "site_name": ("Buku Besar Donasi Transparan", "Donation Transparency Ledger"),
    "site_tagline": (
        "Setiap donasi dan penyaluran tercatat di log publik yang tidak bisa diubah.",
        "Every donation and disbursement is recorded in a public log that cannot be changed.",
    ),
    "skip": ("Langsung ke isi", "Skip to content"),
    "nav_label": ("Navigasi utama", "Main navigation"),
    "nav_home": ("Organisasi", "Organizations"),
    "nav_verify": ("Periksa tanda terima", "Check a receipt"),
    "nav_api": ("API", "API"),
    "lang_label": ("Bahasa", "Language"),
    "footer_trust": (
        "Semua angka di halaman ini dihitung dari log publik yang hanya bisa ditambah. "
        "Checkpoint-nya ditandatangani, dan siapa pun dapat memeriksanya sendiri.",
        "Every figure on these pages is computed from a public, append-only log. Its "
        "checkpoints are signed, and anyone can check them independently.",
    ),
    "footer_api": ("Dokumentasi API (OpenAPI)", "API documentation (OpenAPI)"),
    "footer_cli": (
        "Pemeriksaan offline dengan baris perintah: ledger-verify receipt <berkas> --vkey <VKEY>",
        "Offline check from the command line: ledger-verify receipt <file> --vkey <VKEY>",
    ),
    "breadcrumb": ("Lokasi halaman", "Breadcrumb"),
    # --- home -------------------------------------------------------------------------------
    "home_title": ("Organisasi yang tercatat", "Organizations on the ledger"),
    "home_intro": (
        "Yayasan, lembaga zakat dan platform penggalangan dana mencatat setiap donasi yang "
        "masuk dan setiap penyaluran ke panti asuhan (LKSA) di sini. Pilih organisasi untuk "
        "melihat dana, penerima manfaat, dan entri log-nya.",
        "Foundations, zakat bodies and fundraising platforms record every donation received "
        "and every disbursement to orphanages (LKSA) here. Choose an organization to see its "
        "funds, beneficiaries and log entries.",
    ),
    "home_empty": ("Belum ada organisasi.", "No organizations yet."),
    "entries_count": ("{n} entri di log", "{n} log entries"),
    "funds_count": ("{n} dana", "{n} funds"),
    "raised": ("Terkumpul", "Raised"),
    "disbursed": ("Disalurkan", "Disbursed"),
    "fees": ("Biaya & overhead", "Fees & overhead"),
    "balance": ("Saldo", "Balance"),
    "transferred_in": ("Pindahan masuk", "Transferred in"),
    "transferred_out": ("Pindahan keluar", "Transferred out"),
    "currency": ("Mata uang", "Currency"),
    "no_money_yet": ("Belum ada donasi.", "No donations yet."),
    "open_org": ("Lihat {name}", "View {name}"),
    "more_orgs": ("Organisasi berikutnya", "More organizations"),
    # --- organization -----------------------------------------------------------------------
    "org_log": ("Log", "Log"),
    "totals_title": ("Ringkasan", "Summary"),
    "funds_title": ("Dana dan kampanye", "Funds and campaigns"),
    "funds_empty": ("Belum ada dana.", "No funds yet."),
    "overhead": ("Rasio overhead", "Overhead ratio"),
    "overhead_of_cap": ("{ratio} dari batas {cap}", "{ratio} of a {cap} cap"),
    "overhead_zero_cap": ("batas 0% (zakat/bencana)", "0% cap (zakat/disaster)"),
    "over_cap": ("Melebihi batas", "Over the cap"),
    "within_cap": ("Dalam batas", "Within the cap"),
    "cap_note": (
        "Batas overhead penggalangan dana: 10% dari yang terkumpul (PP 29/1980 pasal 6 ayat 1), "
        "atau batas yang lebih ketat milik dana itu.",
        "Fundraising overhead cap: 10% of what was raised (PP 29/1980 art. 6(1)), or the "
        "fund's own stricter cap.",
    ),
    "earmark_beneficiary": ("Khusus untuk {name}", "Earmarked for {name}"),
    "earmark_purpose": ("Khusus untuk keperluan: {purpose}", "Earmarked for: {purpose}"),
    "beneficiaries_title": ("Penerima manfaat", "Beneficiaries"),
    "beneficiaries_empty": ("Belum ada penerima manfaat.", "No beneficiaries yet."),
    "beneficiary": ("Penerima", "Beneficiary"),
    "location": ("Lokasi", "Location"),
    "registration": ("No. registrasi", "Registration no."),
    "received": ("Telah menerima", "Received"),
    "nothing_received": ("Belum menerima", "Nothing yet"),
    "version": ("versi {n}", "version {n}"),
    "entries_title": ("Entri terbaru", "Latest entries"),
    "entries_intro": (
        "Proyeksi publik log: tanpa data pribadi. Nama donatur hanya tampil bila donatur "
        "menyetujuinya.",
        "The public projection of the log: no personal data. A donor's name is shown only if "
        "they consented.",
    ),
    "entries_empty": ("Log masih kosong.", "The log is empty."),
    "entries_range": ("Entri {first}–{last} dari {size}", "Entries {first}–{last} of {size}"),
    "newer": ("Lebih baru", "Newer"),
    "older": ("Lebih lama", "Older"),
    "entries_pages": ("Halaman entri", "Entry pages"),
    "col_index": ("No.", "No."),
    "col_time": ("Dicatat (UTC)", "Recorded (UTC)"),
    "col_value_date": ("Tanggal nilai", "Value date"),
    "col_what": ("Keterangan", "Description"),
    "col_amount": ("Jumlah", "Amount"),
    "checkpoint_title": ("Checkpoint terakhir", "Latest checkpoint"),
    "checkpoint_intro": (
        "Kepala log yang ditandatangani: ukuran dan hash akar pohon Merkle (RFC 9162), "
        "dalam format c2sp.org/tlog-checkpoint.",
        "The log's signed head: the size and Merkle tree root (RFC 9162), in the "
        "c2sp.org/tlog-checkpoint format.",
    ),
    "checkpoint_behind": (
        "{n} entri terbaru akan masuk checkpoint berikutnya",
        "the {n} newest entries will be in the next checkpoint",
    ),
    "origin": ("Asal log (origin)", "Log origin"),
    "tree_size": ("Ukuran pohon", "Tree size"),
    "root_hash": ("Hash akar", "Root hash"),
    "signed_note": ("Catatan bertanda tangan", "Signed note"),
    "cosignatures": ("{n} tanda tangan saksi", "{n} witness cosignatures"),
    "keys_title": ("Kunci publik log (vkey)", "The log's public keys (vkeys)"),
    "keys_intro": (
        "Simpan kunci ini. Dengan kunci ini Anda dapat memeriksa tanda terima tanpa "
        "mempercayai server ini.",
        "Keep these keys. With them you can check a receipt without trusting this server.",
    ),
    "pin_button": ("Sematkan kunci di peramban ini", "Pin these keys in this browser"),
    "pinned_ok": (
        "Kunci disematkan. Tanda terima dari organisasi ini akan diperiksa dengan kunci ini.",
        "Keys pinned. Receipts from this organization will be checked against them.",
    ),
    "pinned_already": ("Kunci ini sudah disematkan.", "These keys are already pinned."),
    "pinned_changed": (
        "Perhatian: kunci ini berbeda dari yang Anda sematkan sebelumnya.",
        "Warning: these keys differ from the ones you pinned before.",
    ),
    "copy": ("Salin", "Copy"),
    "copied": ("Tersalin", "Copied"),
    "go_verify": ("Periksa tanda terima", "Check a receipt"),
    "downloads_title": ("Unduhan", "Downloads"),
    "dl_keys": ("Kunci publik (teks vkey)", "Public keys (vkey text)"),
    "dl_checkpoint": ("Checkpoint (catatan bertanda tangan)", "Checkpoint (signed note)"),
    "dl_export": ("Seluruh log (JSON Lines)", "The whole log (JSON Lines)"),
    "dl_certificate": (
        "Sertifikat penandatangan dokumen (PEM) untuk tanda terima dan laporan PDF",
        "Document-signing certificate (PEM) for PDF receipts and statements",
    ),
    "statements_title": ("Laporan publik", "Public statements"),
    "statements_intro": (
        "Laporan periodik bertanda tangan digital (PAdES). Tanda tangannya dapat diperiksa "
        "dengan pembaca PDF biasa.",
        "Periodic statements with a digital signature (PAdES) that ordinary PDF readers can check.",
    ),
    "statements_empty": ("Belum ada laporan.", "No statements yet."),
    "statement_n": ("Laporan {n}", "Statement {n}"),
    "period": ("Periode", "Period"),
    "period_range": ("{start} s.d. {end}", "{start} to {end}"),
    "provisional": ("sementara", "provisional"),
    "scope": ("Cakupan", "Scope"),
    "scope_all": ("Seluruh organisasi", "The whole organization"),
    "pdf_id": ("PDF (Bahasa Indonesia)", "PDF (Bahasa Indonesia)"),
    "pdf_en": ("PDF (English)", "PDF (English)"),
    "json": ("JSON", "JSON"),
    "csv": ("CSV", "CSV"),
    "details": ("Rincian", "Details"),
    # --- statement page ---------------------------------------------------------------------
    "issued_at": ("Diterbitkan", "Issued"),
    "entries_covered": ("Entri yang dicakup", "Entries covered"),
    "entries_span": ("indeks {start} sampai sebelum {end}", "indexes {start} up to {end}"),
    "statement_entry": ("Entri penerbitan di log", "Its entry in the log"),
    "previous_statement": ("Laporan sebelumnya", "Previous statement"),
    "none": ("tidak ada", "none"),
    "sha256_of": ("SHA-256 dokumen", "SHA-256 of the documents"),
    "provisional_note": (
        "Diterbitkan sebelum akhir periode: entri yang datang kemudian tidak termasuk.",
        "Issued before the end of the period: later entries of the period are not in it.",
    ),
    # --- entry ------------------------------------------------------------------------------
    "entry_title": ("Entri {index}", "Entry {index}"),
    "entry_intro": (
        "Satu entri log dengan data pembuktiannya. Hash dan bukti di bawah ini dapat dihitung "
        "ulang oleh siapa pun.",
        "One log entry with its proof data. Anyone can recompute the hashes and the proof below.",
    ),
    "kind": ("Jenis", "Kind"),
    "time": ("Waktu server", "Server time"),
    "fund": ("Dana", "Fund"),
    "date": ("Tanggal", "Date"),
    "reference": ("Referensi", "Reference"),
    "channel": ("Saluran", "Channel"),
    "donor": ("Donatur", "Donor"),
    "anonymous": ("Anonim", "Anonymous"),
    "message": ("Pesan", "Message"),
    "purpose": ("Keperluan", "Purpose"),
    "commitment": ("Komitmen data donatur", "Donor data commitment"),
    "commitment_note": (
        "Hash bergaram dari data pribadi donatur; datanya sendiri tidak pernah masuk log.",
        "A salted hash of the donor's personal data; the data itself never enters the log.",
    ),
    "proof_title": ("Data pembuktian", "Proof data"),
    "canonical_bytes": ("Byte kanonik (RFC 8785)", "Canonical bytes (RFC 8785)"),
    "leaf_hash": ("Hash daun", "Leaf hash"),
    "leaf_hash_def": ("SHA-256(0x00 ‖ byte kanonik)", "SHA-256(0x00 ‖ canonical bytes)"),
    "entry_hash": ("Hash entri (rantai)", "Entry (chain) hash"),
    "entry_hash_def": (
        "SHA-256(0x02 ‖ hash entri sebelumnya ‖ hash daun)",
        "SHA-256(0x02 ‖ previous entry hash ‖ leaf hash)",
    ),
    "prev_hash": ("Hash entri sebelumnya (prev)", "Previous entry hash (prev)"),
    "tlog_proof": ("Bukti inklusi (c2sp.org/tlog-proof)", "Inclusion proof (c2sp.org/tlog-proof)"),
    "tlog_proof_note": (
        "Bukti offline bahwa entri ini ada di log pada checkpoint bertanda tangan.",
        "An offline proof that this entry is in the log at a signed checkpoint.",
    ),
    "download_proof": ("Unduh berkas .tlog-proof", "Download the .tlog-proof file"),
    "check_in_browser": ("Periksa bukti ini di peramban", "Check this proof in the browser"),
    "prev_entry": ("Entri sebelumnya", "Previous entry"),
    "next_entry": ("Entri berikutnya", "Next entry"),
    "entry_nav": ("Entri lain", "Other entries"),
    # --- entry kinds ------------------------------------------------------------------------
    "kind_log.created": ("Log dibuat", "Log created"),
    "kind_key.rotated": ("Kunci diganti", "Key rotated"),
    "kind_key.retired": ("Kunci dipensiunkan", "Key retired"),
    "kind_staff.added": ("Akun staf ditambahkan", "Staff account added"),
    "kind_staff.changed": ("Akses staf diubah", "Staff access changed"),
    "kind_api_key.issued": ("Kunci API diterbitkan", "API key issued"),
    "kind_api_key.revoked": ("Kunci API dicabut", "API key revoked"),
    "kind_note": ("Catatan", "Note"),
    "kind_fund.created": ("Dana dibuat", "Fund created"),
    "kind_beneficiary.registered": ("Penerima didaftarkan", "Beneficiary registered"),
    "kind_beneficiary.updated": ("Data penerima diubah", "Beneficiary updated"),
    "kind_donation": ("Donasi", "Donation"),
    "kind_disbursement": ("Penyaluran", "Disbursement"),
    "kind_transfer": ("Pemindahan antar dana", "Transfer between funds"),
    "kind_fee": ("Biaya", "Fee"),
    "kind_correction": ("Koreksi", "Correction"),
    "kind_evidence.attached": ("Bukti dilampirkan", "Evidence attached"),
    "kind_donor.erased": ("Data donatur dihapus", "Donor data erased"),
    "kind_statement.issued": ("Laporan diterbitkan", "Statement issued"),
    "kind_beneficiary.key": ("Kunci penerima didaftarkan", "Recipient key enrolled"),
    "kind_disbursement.acknowledged": ("Dikonfirmasi penerima", "Acknowledged by the recipient"),
    "kind_disbursement.disputed": ("Disanggah penerima", "Disputed by the recipient"),
    "sum_log_created": ("Log {name} dibuka", "Log of {name} opened"),
    "sum_fund": ("{name} ({currency})", "{name} ({currency})"),
    "sum_donation": ("ke {fund}, dari {donor}", "to {fund}, from {donor}"),
    "sum_disbursement": ("dari {fund} ke {beneficiary}", "from {fund} to {beneficiary}"),
    "sum_transfer": ("dari {src} ke {dst}", "from {src} to {dst}"),
    "sum_fee": ("dari {fund}: {description}", "from {fund}: {description}"),
    "sum_correction": ("membatalkan entri {index}: {reason}", "reverses entry {index}: {reason}"),
    "rev_badge": ("Dibatalkan", "Reversed"),
    "rev_by": ("dibatalkan oleh", "reversed by"),
    "rev_on": ("pada {day}", "on {day}"),
    "rev_title": ("Entri ini dibatalkan", "This entry was reversed"),
    "rev_note": (
        "Entri ini tetap ada di log (log tidak pernah diubah), tetapi sebuah koreksi "
        "membatalkannya: jumlahnya tidak lagi dihitung dalam total mana pun.",
        "This entry stays in the log (the log never changes), but a correction reversed it: "
        "its amount no longer counts in any total.",
    ),
    "rev_reverses": ("Membatalkan", "Reverses"),
    "rev_reason": ("Alasan", "Reason"),
    "sum_evidence": ("untuk penyaluran {index}", "for disbursement {index}"),
    "sum_erased": ("{n} catatan", "{n} records"),
    "sum_beneficiary": ("{name}, {city}", "{name}, {city}"),
    "purpose_food": ("makanan", "food"),
    "purpose_education": ("pendidikan", "education"),
    "purpose_health": ("kesehatan", "health"),
    "purpose_shelter": ("tempat tinggal", "shelter"),
    "purpose_clothing": ("pakaian", "clothing"),
    "purpose_operations": ("operasional", "operations"),
    "purpose_other": ("lainnya", "other"),
    "channel_bank_transfer": ("transfer bank", "bank transfer"),
    "channel_e_wallet": ("dompet digital", "e-wallet"),
    "channel_qris": ("QRIS", "QRIS"),
    "channel_cash": ("tunai", "cash"),
    "channel_card": ("kartu", "card"),
    "channel_payment_gateway": ("payment gateway", "payment gateway"),
    "channel_other": ("lainnya", "other"),
    # --- verify -----------------------------------------------------------------------------
    "verify_title": ("Periksa tanda terima donasi", "Check a donation receipt"),
    "verify_intro": (
        "Jatuhkan PDF tanda terima Anda, atau tempel tanda terima (JSON) atau berkas "
        ".tlog-proof. Pemeriksaan "
        "berjalan sepenuhnya di peramban Anda: halaman ini tidak mengirim apa pun ke server, "
        "dan hasilnya hanya bergantung pada kunci publik yang Anda percayai.",
        "Drop your receipt PDF, or paste your receipt (JSON) or a .tlog-proof file. The check "
        "runs entirely in "
        "your browser: this page sends nothing to the server, and the result depends only on "
        "the public key you trust.",
    ),
    "receipt_label": (
        "Tanda terima (JSON) atau isi berkas .tlog-proof",
        "Receipt (JSON) or the contents of a .tlog-proof file",
    ),
    "file_label": ("…atau pilih berkas", "…or choose a file"),
    "drop_hint": ("Anda juga dapat menjatuhkan berkas di sini.", "You can also drop a file here."),
    "keys_label": ("Kunci publik yang dipercaya", "Trusted public key"),
    "keys_help": (
        "Satu vkey per baris, dari halaman organisasi (tombol “Sematkan”) atau dari sumber "
        "lain yang Anda percayai. Atau tempel kebijakan c2sp.org/tlog-policy (baris log, "
        "witness, group, quorum) untuk juga mewajibkan tanda tangan saksi.",
        "One vkey per line, from the organization's page (the “Pin” button) or another source "
        "you trust. Or paste a c2sp.org/tlog-policy (log, witness, group and quorum lines) to "
        "also require witness cosignatures.",
    ),
    "keys_from_pin": (
        "Diisi dari kunci yang Anda sematkan untuk {org} pada {when}.",
        "Filled in from the keys you pinned for {org} on {when}.",
    ),
    "keys_not_pinned": (
        "Anda belum menyematkan kunci {org} di peramban ini. Buka halaman organisasinya "
        "untuk menyematkan kunci, atau ketik kunci yang Anda percayai.",
        "You have not pinned keys for {org} in this browser. Open its page to pin them, or "
        "type a key you trust.",
    ),
    "proof_from_entry": (
        "Bukti diisi dari halaman entri {index}.",
        "Proof filled in from the page of entry {index}.",
    ),
    "verify_button": ("Periksa", "Verify"),
    "noscript": (
        "Pemeriksaan di halaman ini memerlukan JavaScript. Tanpa JavaScript, gunakan perintah "
        "ledger-verify di komputer Anda.",
        "The check on this page needs JavaScript. Without it, use the ledger-verify command "
        "on your computer.",
    ),
    "result_title": ("Hasil", "Result"),
    "pass": ("Sah: entri ini tercatat di log", "Valid: this entry is in the log"),
    "fail": ("Tidak sah", "Not valid"),
    "unusable": ("Tidak dapat dibaca", "Cannot be read"),
    "working": ("Memeriksa…", "Checking…"),
    "r_pass_reversed": (
        "Sah, tetapi DIBATALKAN: entri ini tercatat di log, namun sebuah koreksi membatalkannya",
        "Valid, but REVERSED: this entry is in the log, but a correction reversed it",
    ),
    "r_status": ("Status", "Status"),
    "r_reversed": (
        "dibatalkan oleh entri {index} pada {day} ({reason}): donasi ini tidak lagi dihitung",
        "reversed by entry {index} on {day} ({reason}): this gift no longer counts",
    ),
    "r_counts": (
        "dihitung: tidak ada pembatalan hingga checkpoint ukuran {size}",
        "counts: no reversal up to checkpoint size {size}",
    ),
    "r_status_unknown": (
        "tidak diketahui: berkas ini tidak dapat menunjukkan koreksi yang tercatat kemudian",
        "unknown: this file cannot show a correction recorded later",
    ),
    "r_amount": ("Jumlah", "Amount"),
    "r_fund": ("Dana", "Fund"),
    "r_date": ("Tanggal", "Date"),
    "r_index": ("Indeks entri", "Entry index"),
    "r_kind": ("Jenis entri", "Entry kind"),
    "r_log": ("Log", "Log"),
    "r_checkpoint": ("Checkpoint", "Checkpoint"),
    "r_checkpoint_value": ("ukuran {size}, akar {root}", "size {size}, root {root}"),
    "r_signed_by": ("Ditandatangani oleh", "Signed by"),
    "r_witnesses": ("Saksi yang menjamin", "Witnesses that vouched"),
    "r_no_witness": ("tidak ada (kebijakan tidak mewajibkan)", "none (the policy needs none)"),
    "r_donor": ("Data donatur", "Donor details"),
    "r_donor_ok": (
        "cocok dengan komitmen di entri",
        "match the entry's commitment",
    ),
    "r_donor_absent": ("tidak disertakan", "not included"),
    "r_reference": ("Referensi", "Reference"),
    "r_entry_page": ("Lihat entri di situs ini", "See the entry on this site"),
    "r_detail": ("Rincian teknis", "Technical detail"),
    "e_no_receipt": ("Tempelkan tanda terima terlebih dahulu.", "Paste a receipt first."),
    "e_no_key": (
        "Masukkan kunci publik organisasi (vkey) atau sebuah kebijakan.",
        "Give the organization's public key (vkey) or a policy.",
    ),
    "e_malformed": (
        "Teks ini bukan tanda terima atau bukti yang sah formatnya.",
        "This text is not a well-formed receipt or proof.",
    ),
    "e_signature": (
        "Checkpoint tidak ditandatangani oleh kunci yang Anda percayai.",
        "The checkpoint is not signed by a key you trust.",
    ),
    "e_inclusion": (
        "Bukti inklusi tidak cocok: entri atau bukti telah diubah.",
        "The inclusion proof does not match: the entry or the proof was altered.",
    ),
    "e_header": (
        "Entri tidak sesuai dengan posisi atau log yang dibuktikan.",
        "The entry does not match the position or log being proven.",
    ),
    "e_donor": (
        "Data donatur tidak cocok dengan komitmen di entri.",
        "The donor details do not match the entry's commitment.",
    ),
    "e_quorum": (
        "Tanda tangan saksi tidak memenuhi kuorum kebijakan.",
        "The witness cosignatures do not meet the policy's quorum.",
    ),
    "e_crypto": (
        "Peramban ini tidak mendukung Ed25519 di WebCrypto; gunakan peramban terbaru atau "
        "perintah ledger-verify.",
        "This browser does not support Ed25519 in WebCrypto; use a current browser or the "
        "ledger-verify command.",
    ),
    # --- errors -----------------------------------------------------------------------------
    "not_found_title": ("Halaman tidak ditemukan", "Page not found"),
    "not_found_text": (
        "Halaman yang Anda cari tidak ada di buku besar ini.",
        "The page you asked for is not in this ledger.",
    ),
    "back_home": ("Kembali ke daftar organisasi", "Back to the organizations"),
}
"""Key → (Bahasa Indonesia, English)."""

SCRIPT_KEYS = tuple(
    k for k in STRINGS if k.startswith(("r_", "e_", "pin", "copied", "keys_", "kind_"))
)
"""The strings the browser scripts need (sent in the page, so the scripts fetch nothing)."""
SCRIPT_KEYS += ("pass", "fail", "unusable", "working", "proof_from_entry", "copy")

CATALOG_STRINGS: dict[str, str] = {
    # --- verify: plain language first (issue 17) ------------------------------------------
    "v_recorded": "Recorded",
    "v_unaltered": "Unaltered",
    "v_counts": "Still counted",
    "v_yes": "Yes",
    "v_no": "No",
    "v_unknown": "Not stated by this receipt",
    "v_recorded_text": "Entry {index} in the public log of {org}.",
    "v_unaltered_text": "Its data is exactly what the signed checkpoint covers; nobody changed it.",
    "v_counts_text": "No correction reversed it; it counts in the published totals.",
    "v_reversed_text": "Reversed by entry {index} on {day} ({reason}): it no longer counts.",
    "v_unknown_text": "This file predates reversal records; download a newer receipt.",
    "v_headline_ok": "Valid: recorded · unaltered · still counted",
    "v_headline_reversed": "Recorded and unaltered, but REVERSED: it no longer counts",
    "v_headline_unknown": "Valid: recorded · unaltered",
    "v_org": "Organization",
    "v_org_unknown": "not named by this receipt",
    "v_what_sah": "What does \u201cValid\u201d mean?",
    "v_sah_text": (
        "It means this gift is recorded in the organization's public log and has not been "
        "changed since. It does not prove that the money has reached the orphanage: for "
        "that, follow the fund's disbursements and their evidence."
    ),
    "v_tech": "Technical details",
    "v_from_pdf": "Proof taken from the PDF: {name}",
    "v_pdf_many": "This PDF holds {n} receipts; checking the first ({name}).",
    "v_pdf_none": "This PDF has no attached receipt or proof.",
    "v_pdf_unreadable": "This PDF's attachment could not be read: {reason}",
    "v_keys_served": (
        "Keys as published by this server for {org}. For an independent check, pin them "
        "on the organization's page first and compare them with those the organization "
        "publishes elsewhere."
    ),
    "v_from_link": "Proof of entry {index} of {org}, as of now, filled in from the link.",
    "file_label_pdf": "Or choose a file (receipt PDF, .json, .tlog-proof)",
    # --- verify: the dropped PDF's own signature (pdf-signature.js) ----------------------
    "v_sig_valid": "PDF signature: valid",
    "v_sig_refused": "PDF signature: REFUSED",
    "v_sig_valid_text": "This PDF is signed by {org}, and not one byte of it has changed since it was signed.",
    "v_sig_served": "Compared with the document certificate of {org} as this server publishes it (…/certificate); for an independent check, compare it with the one the organization publishes elsewhere.",
    "v_sig_altered": "Someone changed this PDF after it was signed: its bytes no longer match its signature. Do not trust what this copy says.",
    "v_sig_extended": "Something was added to this PDF after it was signed (an update appended to the file); the signature does not cover what was added. Do not trust what this copy shows.",
    "v_sig_foreign": "This PDF is signed by “{name}”, not with the document certificate of {org}. It was not issued by {org}.",
    "v_sig_unknown": "This PDF's signature is intact, by “{name}”, but this server publishes no document certificate for the log its proof names, so it cannot say whose certificate that is.",
    "v_sig_unsigned": "This PDF carries no signature, so nothing shows who made it or that it is unchanged.",
    "v_sig_unreadable": "This PDF's signature could not be read: {reason}",
    # --- verify: a recipient's acknowledgment file (issue 20) -------------------------------
    "v_ack_hint": (
        "Also accepted: a recipient's acknowledgment file (on a disbursement's page, "
        "\u201cDownload the proof\u201d)."
    ),
    "v_ack_file": "Acknowledgment file: {name}",
    "v_ack_headline": "Valid: the recipient signed that the money arrived",
    "v_dispute_headline": (
        "Valid, and DISPUTED: the recipient signed that the money did not arrive as recorded"
    ),
    "v_ack_said": ACKNOWLEDGED_SAID,
    "v_dispute_said": DISPUTED_SAID,
    "v_ack_signature": "Recipient's signature",
    "v_ack_signature_text": (
        "Made with the key {name} enrolled in entry {key}, not with the charity's; it "
        "verifies over the documented message (disbursement, amount, date, verdict)."
    ),
    "v_ack_recorded_text": "Entry {index} in the public log of {org}, about disbursement {disbursement}.",
    "v_ack_beneficiary": "Recipient",
    "v_ack_disbursement": "Disbursement (entry)",
    "v_ack_amount": "Recorded as disbursed",
    "v_ack_received": "Received, as the recipient signed",
    "v_ack_sah_text": (
        "It means the orphanage itself signed this, with a key only it holds, and the "
        "organization's public log recorded it. The charity can neither make nor change such "
        "a signature."
    ),
    "v_e_recipient": (
        "The recipient's signature does not check out: the file was altered, or it was "
        "signed with a key that was not the recipient's at that time."
    ),
    # --- my gift (issue 17) -----------------------------------------------------------------
    "g_nav": "Check my gift",
    "g_title": "Check my gift",
    "g_intro": "Enter the payment reference (bank transfer or payment gateway) and the receipt code the organization sent you. You will see whether your gift is recorded and still counts, and you can download your signed receipt.",
    "g_org": "Organization",
    "g_reference": "Payment reference",
    "g_reference_help": "As on your transfer slip or payment notice, e.g. QRIS-0001.",
    "g_code": "Receipt code",
    "g_code_help": "26 letters and digits, e.g. ABCDE-FGHIJ-…; dashes and letter case do not matter.",
    "g_find": "Find my gift",
    "g_privacy": "Only someone with both the reference and the code sees this gift's page, and nothing personal is shown on it. Too many tries from one address are refused for a while.",
    "g_not_found": "No gift matches this reference and receipt code. Check both and try again, or ask the organization to send your receipt code again.",
    "g_yours": "Your gift",
    "g_counts": "Recorded, and still counted in the published totals",
    "g_reversed": "Recorded, but REVERSED by entry {index} on {day} ({reason}): it no longer counts",
    "g_downloads": "Your receipt",
    "g_pdf": "Download the signed receipt (PDF)",
    "g_json": "Download the receipt data (JSON)",
    "g_verify": "Verify it",
    "g_tax_pdf": "Download the tax receipt (PDF, with your NPWP or NIK)",
    "g_keep_private": "This page's address holds your receipt code: share it only with people you would show your receipt to.",
    # --- a fund's standing under Indonesian rules (issue 18) --------------------------------
    "c_title": "Permit and classification",
    "c_permit": "Public fundraising permit (PUB)",
    "c_permit_valid": "Valid today",
    "c_permit_lapsed": "Expired: donations received after {day} are refused",
    "c_permit_none": "No permit recorded in the log",
    "c_exempt_zakat": "Exempt: zakat is collected under the zakat law, not a PUB permit",
    "c_exempt_place_of_worship": "Exempt: a collection in a place of worship",
    "c_permit_line": "No. {number}, issued by {issuer}, valid {start} to {end}",
    "c_restriction_with": "Restricted by donors (ISAK 35: with donor restrictions)",
    "c_restriction_without": "Not restricted by donors (ISAK 35: without donor restrictions)",
    "c_zakat_zakat": "Zakat fund (PSAK 109)",
    "c_zakat_infak": "Infak/sedekah fund (PSAK 109)",
    "c_zakat_amil": "Amil fund: the collector's share of zakat (PSAK 109)",
    "c_zakat_non_halal": "Non-halal fund (PSAK 109)",
    "c_tax_zakat": "Zakat paid here can be deducted from taxable income (PMK 114/2025) with the zakat receipt",
    "c_tax_disaster": "Gifts can be deducted from taxable income: a nationally declared disaster (PP 93/2010)",
    "c_tax_education": "Gifts can be deducted from taxable income: education facilities (PP 93/2010)",
    "c_tax_research": "Gifts can be deducted from taxable income: research and development (PP 93/2010)",
    "c_tax_sport": "Gifts can be deducted from taxable income: sport (PP 93/2010)",
    "c_tax_social_infrastructure": "Gifts can be deducted from taxable income: social infrastructure (PP 93/2010)",
    "c_recorded": "Recorded in entry {index}",
    "c_tax": "Tax",
    # --- fund pages (issue 17) ---------------------------------------------------------------
    "f_card": "{raised} raised · {disbursed} disbursed to {n} beneficiaries · checked {day}",
    "f_totals": "Totals",
    "f_chart_monthly": "Money in and out per month",
    "f_chart_monthly_desc": "Donations received (solid bars) and disbursements paid (hatched bars) by fund {fund}, per month of value date; reversed entries left out.",
    "f_inflow": "Donations in",
    "f_outflow": "Disbursed",
    "f_month": "Month",
    "f_table": "The numbers as a table",
    "f_chart_purpose": "Disbursements by category",
    "f_chart_purpose_desc": "How fund {fund}'s disbursements divide among categories, with each category's share.",
    "f_chart_beneficiary": "Disbursements by beneficiary",
    "f_chart_beneficiary_desc": "How fund {fund}'s disbursements divide among the orphanages that received them.",
    "f_latest": "Latest disbursements",
    "f_reversed": "reversed by #{index}",
    "f_nothing": "No money has moved in this fund yet.",
    "f_nothing_out": "Nothing has been disbursed from this fund yet.",
    # --- a fund's target, its share card, public evidence (issue 17) ------------------------
    "kind_fund.target": "Fund target set",
    "kind_evidence.published": "Evidence published (redacted)",
    "sum_target": "target of {fund}: {amount}",
    "sum_target_cleared": "target of {fund} removed",
    "sum_published": "public copy of evidence for disbursement {index}, redacted: {redactions}",
    "t_title": "Target",
    "t_of": "{raised} of the {target} target",
    "t_percent": "{percent}% of the target reached",
    "t_days_left": "{days} days left, until {day}",
    "t_last_day": "Last day: {day}",
    "t_ended": "Ended on {day}",
    "t_no_deadline": "No deadline",
    "t_recorded": "Target recorded in entry {index}",
    "f_card_target": "{percent}% of the {target} target",
    "f_card_image_alt": "Share card of {fund} ({org}): {text}",
    "ev_none": "No evidence yet",
    "ev_attached": "Evidence attached (private)",
    "ev_public": "Public evidence (redacted)",
    "ev_title": "Evidence",
    "ev_redacted": "redacted: {redactions}",
    "ev_open": "Open the public copy ({kind})",
    "ev_thumb_alt": "Redacted evidence of disbursement {index}",
    "ev_copy_of": "A redacted copy of the original evidence with SHA-256 {original}, which stays private.",
    "ev_private_count": "{n} original evidence file(s) attached; originals stay private.",
    "ev_none_text": "No evidence has been attached to this disbursement yet.",
    "ev_hash": "SHA-256 of the public copy",
    # --- a published copy of evidence withdrawn (evidence.withdrawn) ---------------------
    "kind_evidence.withdrawn": "Public evidence withdrawn",
    "sum_withdrawn": "public copy of entry {index} withdrawn: {reason}",
    "ev_withdrawn": "Withdrawn on {day}: {reason}",
    "ev_withdrawn_badge": "Evidence withdrawn",
    "ev_withdrawn_note": "The file is no longer served; both entries stay in the log (withdrawal, publication):",
    "ev_withdraws": "Withdraws the public copy of evidence published in entry",
}
"""Site strings whose Bahasa Indonesia lives in the gettext catalog (``ledger.messages``):
each value is the English msgid; ``Translator`` looks the Indonesian up there."""
SCRIPT_KEYS += tuple(k for k in CATALOG_STRINGS if k.startswith("v_"))


def resolve_lang(value: str | None) -> Lang:
    """``value`` when it is a site language, else the default (Bahasa Indonesia)."""
    return "en" if value == "en" else DEFAULT_LANG


@dataclass(frozen=True)
class Translator:
    """The strings of one language; templates call it as ``t("key", name=...)``."""

    lang: Lang
    """The language of every string it returns."""

    def __call__(self, key: str, **values: object) -> str:
        if key in CATALOG_STRINGS:
            text = translate(CATALOG_STRINGS[key], self.lang)
        else:
            text = STRINGS[key][LANGUAGES.index(self.lang)]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        """Whether ``key`` has a translation (entry kinds may be newer than the site)."""
        return key in STRINGS or key in CATALOG_STRINGS

    def script_strings(self) -> dict[str, str]:
        """The strings the browser scripts use, in this language."""
        return {k: self(k) for k in SCRIPT_KEYS}


def switch_url(path: str, query: Mapping[str, str], lang: Lang) -> str:
    """The same page in ``lang``: the path and query kept, only ``lang`` replaced."""
    kept = [(k, v) for k, v in query.items() if k != "lang"]
    return path + "?" + urlencode([*kept, ("lang", lang)])
