"""Fetch-document body and response (docs/reference/setu-api.md §4.4)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DocumentParameter(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=100)
    value: str = Field(max_length=500)


class DocumentFetch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    docType: str = Field(min_length=1, max_length=20)
    orgId: str = Field(min_length=1, max_length=40)
    format: str = Field(min_length=1, max_length=10)
    consent: str = Field(max_length=5)
    parameters: list[DocumentParameter] = Field(default_factory=list, max_length=20)


class FetchedDocument(BaseModel):
    fileUrl: str
    validUpto: str


class CatalogueParameter(BaseModel):
    name: str
    description: str


class CatalogueItem(BaseModel):
    availableFormats: list[str]
    description: str
    docType: str
    orgId: str
    orgName: str
    parameters: list[CatalogueParameter]


class Catalogue(BaseModel):
    documents: list[CatalogueItem]
