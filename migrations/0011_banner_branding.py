from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('charter', '0010_deadlines_main_establishment')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Tenant',
            name='branding',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
