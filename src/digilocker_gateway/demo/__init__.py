"""The dev-only demo integration at `/demo` (docs/sdk.md §6): the page a business would build,
with the SDK (`digilocker_gateway.client`) behind it."""
