"""Documents: the catalogue (from DigiLocker's pull meta-APIs, stored) and fetch-document."""
