from tortoise import migrations
from tortoise.migrations import operations as ops
from tenants.subject_requests.models import IdentityProof
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('charter', '0007_tenant_limits')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SubjectAssertionKey',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('secret', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'subject_assertion_key', 'app': 'charter', 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='SubjectAssertionUse',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('jti_hash', fields.CharField(max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'subject_assertion_use', 'app': 'charter', 'unique_together': (('tenant', 'jti_hash'),), 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
        ops.AddField(
            model_name='SubjectContact',
            name='verified',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='SubjectRequest',
            name='identity_proof',
            field=fields.CharEnumField(default=IdentityProof.NONE, description='NONE: NONE\nEMAIL: EMAIL\nCONTACT: CONTACT\nASSERTION: ASSERTION\nSTAFF: STAFF', enum_type=IdentityProof, max_length=16),
        ),
    ]
