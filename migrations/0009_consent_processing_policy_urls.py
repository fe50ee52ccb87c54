from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('charter', '0008_requests_identity')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ConsentEvent',
            name='processing',
            field=fields.CharField(null=True, max_length=24),
        ),
        ops.AddField(
            model_name='Tenant',
            name='policy_urls',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
