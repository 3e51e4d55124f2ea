"""ReqIF exchange: hazards, safety goals and requirements out to requirement tools (DOORS, Polarion,
codebeamer), requirements back in as `.sops` blocks. The XML is read and written by the `reqif` library
(strictdoc's), screened by defusedxml and validated against the ReqIF 1.2 XSD that library ships."""
