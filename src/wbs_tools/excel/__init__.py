"""Excel integration: the VBA project and button macros that run wbs_tools from inside Excel."""
