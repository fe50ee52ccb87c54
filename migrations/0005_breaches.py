from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tenants.breaches.kinds import BreachStatus, ClockKind, RiskLevel
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('charter', '0004_subject_requests')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Breach',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=300)),
                ('status', fields.CharEnumField(default=BreachStatus.OPEN, description='OPEN: OPEN\nCONTAINED: CONTAINED\nCLOSED: CLOSED', enum_type=BreachStatus, max_length=16)),
                ('risk', fields.CharEnumField(description='LOW: LOW\nRISK: RISK\nHIGH: HIGH', enum_type=RiskLevel, max_length=8)),
                ('detected_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('aware_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('nature', fields.TextField(null=True, unique=False)),
                ('data_categories', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('approx_subjects', fields.IntField(null=True)),
                ('approx_records', fields.IntField(null=True)),
                ('consequences', fields.TextField(null=True, unique=False)),
                ('measures', fields.TextField(null=True, unique=False)),
                ('jurisdictions', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('notices_sent', fields.IntField(default=0)),
                ('next_due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'breach', 'app': 'charter', 'indexes': [Index(fields=['tenant_id', 'next_due_at'])], 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='BreachClock',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('breach', fields.ForeignKeyField('charter.Breach', source_field='breach_id', db_constraint=True, to_field='id', related_name='clocks', on_delete=OnDelete.CASCADE)),
                ('jurisdiction', fields.CharField(max_length=8)),
                ('kind', fields.CharEnumField(description='AUTHORITY_INITIAL: AUTHORITY_INITIAL\nAUTHORITY_FOLLOWUP: AUTHORITY_FOLLOWUP\nSUBJECTS: SUBJECTS', enum_type=ClockKind, max_length=24)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('satisfied_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reference', fields.CharField(null=True, max_length=200)),
            ],
            options={'table': 'breach_clock', 'app': 'charter', 'unique_together': (('breach', 'jurisdiction', 'kind'),), 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='BreachNotice',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('breach', fields.ForeignKeyField('charter.Breach', source_field='breach_id', db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.CASCADE)),
                ('subject_id', fields.CharField(max_length=255)),
                ('channel', fields.CharField(max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'breach_notice', 'app': 'charter', 'unique_together': (('breach', 'subject_id'),), 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='BreachUpdate',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('breach', fields.ForeignKeyField('charter.Breach', source_field='breach_id', db_constraint=True, to_field='id', related_name='updates', on_delete=OnDelete.CASCADE)),
                ('seq', fields.IntField()),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('note', fields.TextField(unique=False)),
                ('actor', fields.CharField(null=True, max_length=64)),
                ('changes', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'breach_update', 'app': 'charter', 'unique_together': (('breach', 'seq'),), 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
    ]
