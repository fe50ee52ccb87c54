from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('charter', '0011_banner_branding')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConsentCheckpoint',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('sequence', fields.BigIntField()),
                ('hash', fields.CharField(max_length=64)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('full', fields.BooleanField(default=False)),
            ],
            options={'table': 'consent_checkpoint', 'app': 'charter', 'unique_together': (('tenant', 'sequence'),), 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='ConsentVerification',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('status', fields.CharField(max_length=16)),
                ('through', fields.BigIntField(default=0)),
                ('checked', fields.BigIntField(default=0)),
                ('first_broken_id', fields.UUIDField(null=True)),
                ('reason', fields.TextField(null=True, unique=False)),
                ('expect_sequence', fields.BigIntField(null=True)),
                ('expect_hash', fields.CharField(null=True, max_length=64)),
                ('requested_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'consent_verification', 'app': 'charter', 'indexes': [Index(fields=['status', 'requested_at'])], 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
    ]
