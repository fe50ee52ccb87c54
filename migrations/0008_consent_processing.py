from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('charter', '0007_tenant_limits')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ConsentEvent',
            name='processing',
            field=fields.CharField(null=True, max_length=24),
        ),
    ]
