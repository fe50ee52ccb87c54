from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('charter', '0009_consent_processing_policy_urls')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Tenant',
            name='main_establishment',
            field=fields.CharField(null=True, max_length=2),
        ),
    ]
