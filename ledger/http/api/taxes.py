"""Tax documents (auditor and admin keys only: they hold donors' personal data): a
donation's tax receipt (Bukti Setor Zakat, PMK 114/2025; PP 93/2010 donation receipt) and the
reports for the tax office (zakat yearly, disaster relief quarterly), as CSV and signed PDF.
Use cases in ``ledger.charity.taxreceipts`` and ``ledger.charity.taxreports``."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, PathParameter, QueryParameter

from ledger import errors as E
from ledger.charity import taxreceipts, taxreports
from ledger.http.api import IndexPath
from ledger.http.api import contract as C
from ledger.http.api.contract import read
from ledger.http.auth import guard
from ledger.http.services import Services

PRIVATE = {"Cache-Control": "private, no-store"}
"""Personal data: never kept by a shared cache."""
YearPath = Annotated[int, PathParameter(ge=2000, le=2999)]
QuarterPath = Annotated[int, PathParameter(ge=1, le=4)]
Lang = Annotated[Literal["id", "en"], QueryParameter()]
RECEIPT_REFUSALS = (E.DonationReversedError, E.NotDeductibleError, E.TaxIdentityMissingError)
REPORT_REFUSALS = (E.TaxIdentityMissingError, E.RuleError)


def _file(content: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(
        content,
        media_type=media_type,
        headers={**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


class TaxController(Controller):
    path = "/v1/orgs/{slug:str}"
    guards = [guard]

    @get(
        "/donations/{index:int}/tax-receipt.pdf",
        summary="The donation's tax receipt (Bukti Setor Zakat or PP 93/2010 receipt) as a "
        "PAdES-signed PDF with the donor's NPWP or NIK and full name (lang=id|en; auditor)",
        media_type="application/pdf",
        **read("getTaxReceiptPdf", "tax", roles=C.AUDITOR, raises=RECEIPT_REFUSALS),
    )
    async def tax_receipt(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        index: IndexPath,
        lang: Lang = "id",
    ) -> Response[bytes]:
        org = await services.organization(slug)
        pdf, number = await taxreceipts.tax_receipt_pdf(
            services.store, org, services.kek, index, lang, services.settings.signed_link_base()
        )
        return _file(pdf, "application/pdf", taxreceipts.file_name(slug, number, lang))

    @get(
        "/tax-reports/zakat/{year:int}/csv",
        summary="The year's zakat receipts for the tax office (PMK 114/2025), as CSV (auditor)",
        media_type="text/csv",
        **read("getZakatReportCsv", "tax", roles=C.AUDITOR, raises=REPORT_REFUSALS),
    )
    async def zakat_csv(
        self, services: NamedDependency[Services], slug: FromPath[str], year: YearPath
    ) -> Response[bytes]:
        org = await services.organization(slug)
        data = await taxreports.gather(services.store, org, "zakat", year)
        name = taxreports.file_name(slug, data, None, "csv")
        return _file(taxreports.csv_bytes(data), "text/csv", name)

    @get(
        "/tax-reports/zakat/{year:int}/pdf",
        summary="The year's zakat receipts for the tax office (PMK 114/2025), as a signed PDF "
        "with the CSV attached (lang=id|en; auditor)",
        media_type="application/pdf",
        **read("getZakatReportPdf", "tax", roles=C.AUDITOR, raises=REPORT_REFUSALS),
    )
    async def zakat_pdf(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        year: YearPath,
        lang: Lang = "id",
    ) -> Response[bytes]:
        org = await services.organization(slug)
        data = await taxreports.gather(services.store, org, "zakat", year)
        pdf = await taxreports.report_pdf(services.store, org, services.kek, data, lang)
        return _file(pdf, "application/pdf", taxreports.file_name(slug, data, lang, "pdf"))

    @get(
        "/tax-reports/disaster/{year:int}/{quarter:int}/csv",
        summary="The quarter's disaster relief donations (PP 93/2010, PMK 76/2011), as CSV "
        "(auditor)",
        media_type="text/csv",
        **read("getDisasterReportCsv", "tax", roles=C.AUDITOR, raises=REPORT_REFUSALS),
    )
    async def disaster_csv(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        year: YearPath,
        quarter: QuarterPath,
    ) -> Response[bytes]:
        org = await services.organization(slug)
        data = await taxreports.gather(services.store, org, "disaster", year, quarter)
        name = taxreports.file_name(slug, data, None, "csv")
        return _file(taxreports.csv_bytes(data), "text/csv", name)

    @get(
        "/tax-reports/disaster/{year:int}/{quarter:int}/pdf",
        summary="The quarter's disaster relief donations (PP 93/2010, PMK 76/2011), as a "
        "signed PDF with the CSV attached (lang=id|en; auditor)",
        media_type="application/pdf",
        **read("getDisasterReportPdf", "tax", roles=C.AUDITOR, raises=REPORT_REFUSALS),
    )
    async def disaster_pdf(
        self,
        services: NamedDependency[Services],
        slug: FromPath[str],
        year: YearPath,
        quarter: QuarterPath,
        lang: Lang = "id",
    ) -> Response[bytes]:
        org = await services.organization(slug)
        data = await taxreports.gather(services.store, org, "disaster", year, quarter)
        pdf = await taxreports.report_pdf(services.store, org, services.kek, data, lang)
        return _file(pdf, "application/pdf", taxreports.file_name(slug, data, lang, "pdf"))
