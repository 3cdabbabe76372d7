"""wbs_tools: a project-plan engine for Excel workbooks."""
