"""The account check's body and answer (docs/journey-options.md §4)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from digilocker_gateway.kit.aadhaar_number import normalise_aadhaar_number
from digilocker_gateway.requests.options import normalise_mobile


class AccountCheck(BaseModel):
    """One of `mobile` or `aadhaar`. Read liberally (spaces, dashes, a +91 prefix, a number
    sent unquoted); a value that is no such number is refused without being repeated."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True)

    mobile: str | None = Field(
        default=None, max_length=20, repr=False, description="A 10-digit Indian mobile number"
    )
    aadhaar: str | None = Field(
        default=None, max_length=20, repr=False, description="A 12-digit Aadhaar number"
    )

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str | None) -> str | None:
        if not value:
            return None
        mobile = normalise_mobile(value)
        if mobile is None:
            raise ValueError("must be a 10-digit Indian mobile number")
        return mobile

    @field_validator("aadhaar")
    @classmethod
    def _aadhaar(cls, value: str | None) -> str | None:
        if not value:
            return None
        number = normalise_aadhaar_number(value)
        if number is None:
            raise ValueError("must be a 12-digit Aadhaar number with a valid check digit")
        return number

    @model_validator(mode="after")
    def _one_number(self) -> AccountCheck:
        if (self.mobile is None) == (self.aadhaar is None):
            raise ValueError("give exactly one of mobile or aadhaar")
        return self


class AccountCheckResult(BaseModel):
    exists: bool
