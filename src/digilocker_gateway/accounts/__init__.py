"""The account check (docs/journey-options.md §4): does DigiLocker have an account for this
mobile or Aadhaar number? Rate-limited per product instance; the number is never kept."""
