"""The JSON Schema compiler: JSON Schema documents and Python types to GBNF grammars."""

from .compiler import CompiledSchema, compile, to_gbnf
from .report import Report, ReportItem

__all__ = ["CompiledSchema", "Report", "ReportItem", "compile", "to_gbnf"]
