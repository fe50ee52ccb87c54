from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class SealedExportColumn(ops.AlterField):
    """subject_request.export holds a sealed token now (text), not a JSON document.

    Tortoise cannot change a column's type by itself. PostgreSQL converts JSON to its
    text; SQLite keeps any value in the column as it is, so there is nothing to do.
    Copies written before stay readable as plain JSON text until `charter keys rotate`
    seals them (tenants/subject_requests/export.py)."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor and state_editor.DIALECT == "postgres":
            await state_editor._run_sql(
                'ALTER TABLE "subject_request" ALTER COLUMN "export" TYPE TEXT'
            )

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor and state_editor.DIALECT == "postgres":
            await state_editor._run_sql(
                'ALTER TABLE "subject_request" ALTER COLUMN "export" TYPE JSONB '
                'USING "export"::JSONB'
            )


class Migration(migrations.Migration):
    dependencies = [('charter', '0012_ledger_checkpoints')]

    initial = False

    operations = [
        SealedExportColumn(
            model_name='SubjectRequest',
            name='export',
            field=fields.TextField(null=True, unique=False),
        ),
    ]
