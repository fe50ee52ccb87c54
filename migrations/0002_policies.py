from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tenants.policies.kinds import PolicyKind, VersionStatus
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('charter', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Policy',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='PRIVACY: PRIVACY\nCOOKIES: COOKIES\nTERMS: TERMS', enum_type=PolicyKind, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'policy', 'app': 'charter', 'unique_together': (('tenant', 'kind'),), 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='PolicyVersion',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('policy', fields.ForeignKeyField('charter.Policy', source_field='policy_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='PRIVACY: PRIVACY\nCOOKIES: COOKIES\nTERMS: TERMS', enum_type=PolicyKind, max_length=16)),
                ('number', fields.IntField(null=True)),
                ('status', fields.CharEnumField(default=VersionStatus.DRAFT, description='DRAFT: DRAFT\nPUBLISHED: PUBLISHED\nSUPERSEDED: SUPERSEDED', enum_type=VersionStatus, max_length=16)),
                ('effective_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('material', fields.BooleanField(default=False)),
                ('change_summary', fields.TextField(null=True, unique=False)),
                ('disclosures', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'policy_version', 'app': 'charter', 'unique_together': (('policy', 'number'),), 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='PolicyTranslation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('version', fields.ForeignKeyField('charter.PolicyVersion', source_field='version_id', db_constraint=True, to_field='id', related_name='translations', on_delete=OnDelete.CASCADE)),
                ('locale', fields.CharField(max_length=35)),
                ('title', fields.CharField(max_length=300)),
                ('body', fields.TextField(unique=False)),
                ('html', fields.TextField(unique=False)),
                ('content_hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'policy_translation', 'app': 'charter', 'unique_together': (('version', 'locale'),), 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
    ]
