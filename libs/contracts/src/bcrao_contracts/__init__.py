"""Events, DTOs and stream messages shared by the BC-RAO Drafts services. Pydantic only, no I/O."""
