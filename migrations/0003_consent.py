from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tenants.consent.methods import ConsentMethod
from tenants.policies.kinds import PolicyKind
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('charter', '0002_policies')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConsentChainHead',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.OneToOneField('charter.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('sequence', fields.BigIntField(default=0)),
                ('hash', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'consent_chain_head', 'app': 'charter', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConsentEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('sequence', fields.BigIntField()),
                ('subject_id', fields.CharField(max_length=255)),
                ('policy_kind', fields.CharEnumField(description='PRIVACY: PRIVACY\nCOOKIES: COOKIES\nTERMS: TERMS', enum_type=PolicyKind, max_length=16)),
                ('policy_version', fields.IntField()),
                ('locale', fields.CharField(null=True, max_length=35)),
                ('method', fields.CharEnumField(description='BANNER: BANNER\nFORM: FORM\nAPI: API\nIMPORT: IMPORT\nIMPLIED: IMPLIED\nGPC: GPC', enum_type=ConsentMethod, max_length=16)),
                ('decisions', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('source_url', fields.TextField(null=True, unique=False)),
                ('ip', fields.CharField(null=True, max_length=45)),
                ('user_agent', fields.CharField(null=True, max_length=512)),
                ('salt', fields.CharField(null=True, max_length=64)),
                ('commitment', fields.CharField(max_length=64)),
                ('previous_hash', fields.CharField(null=True, max_length=64)),
                ('hash', fields.CharField(max_length=64)),
                ('client_event_id', fields.CharField(null=True, max_length=128)),
            ],
            options={'table': 'consent_event', 'app': 'charter', 'unique_together': (('tenant', 'sequence'), ('tenant', 'client_event_id')), 'indexes': [Index(fields=['tenant_id', 'subject_id', 'sequence'])], 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='ConsentState',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('subject_id', fields.CharField(max_length=255)),
                ('purpose', fields.CharField(max_length=255)),
                ('granted', fields.BooleanField()),
                ('method', fields.CharEnumField(description='BANNER: BANNER\nFORM: FORM\nAPI: API\nIMPORT: IMPORT\nIMPLIED: IMPLIED\nGPC: GPC', enum_type=ConsentMethod, max_length=16)),
                ('policy_kind', fields.CharEnumField(description='PRIVACY: PRIVACY\nCOOKIES: COOKIES\nTERMS: TERMS', enum_type=PolicyKind, max_length=16)),
                ('policy_version', fields.IntField()),
                ('decided_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('event_id', fields.UUIDField()),
            ],
            options={'table': 'consent_state', 'app': 'charter', 'unique_together': (('tenant', 'subject_id', 'purpose'),), 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='SubjectContact',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('subject_id', fields.CharField(max_length=255)),
                ('email', fields.TextField(unique=False)),
                ('email_index', fields.CharField(db_index=True, max_length=64)),
                ('locale', fields.CharField(null=True, max_length=35)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'subject_contact', 'app': 'charter', 'unique_together': (('tenant', 'subject_id'),), 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
    ]
