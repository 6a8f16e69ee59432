"""What every signed PDF shares: page layout, fonts, localization, signing, certificates, attachments."""
