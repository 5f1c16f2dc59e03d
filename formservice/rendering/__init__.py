"""Rendering: the only importers of WeasyPrint, docxtpl, pypdf and pikepdf. Turns a blankett and
its values into the print PDF, the fillable PDF, packets, DOCX and ZIP, fills official PDFs, and
opens PDFs that come from outside. Imports only blanketter (and paths); no flask, no database."""
