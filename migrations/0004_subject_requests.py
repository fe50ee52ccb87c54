from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tenants.outbound.models import Channel, OutboxStatus
from tenants.rights import RequestType
from tenants.subject_requests.models import RequestStatus
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('charter', '0003_consent')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharEnumField(description='EMAIL: email\nWEBHOOK: webhook', enum_type=Channel, max_length=16)),
                ('kind', fields.CharField(max_length=64)),
                ('recipient', fields.TextField(null=True, unique=False)),
                ('recipient_hint', fields.CharField(null=True, max_length=254)),
                ('recipient_index', fields.CharField(null=True, db_index=True, max_length=64)),
                ('locale', fields.CharField(null=True, max_length=35)),
                ('payload', fields.TextField(unique=False)),
                ('subject_id', fields.CharField(null=True, db_index=True, max_length=255)),
                ('status', fields.CharEnumField(default=OutboxStatus.PENDING, description='PENDING: PENDING\nSENT: SENT\nFAILED: FAILED\nDEAD: DEAD', enum_type=OutboxStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_message', 'app': 'charter', 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='SubjectFlags',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('subject_id', fields.CharField(max_length=255)),
                ('restricted', fields.BooleanField(default=False)),
                ('objected', fields.BooleanField(default=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'subject_flags', 'app': 'charter', 'unique_together': (('tenant', 'subject_id'),), 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='SubjectRequest',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('type', fields.CharEnumField(description='ACCESS: ACCESS\nRECTIFICATION: RECTIFICATION\nERASURE: ERASURE\nRESTRICTION: RESTRICTION\nOBJECTION: OBJECTION\nPORTABILITY: PORTABILITY\nWITHDRAW_CONSENT: WITHDRAW_CONSENT', enum_type=RequestType, max_length=24)),
                ('status', fields.CharEnumField(description='UNVERIFIED: UNVERIFIED\nRECEIVED: RECEIVED\nIN_PROGRESS: IN_PROGRESS\nEXTENDED: EXTENDED\nCOMPLETED: COMPLETED\nREJECTED: REJECTED', enum_type=RequestStatus, max_length=16)),
                ('subject_id', fields.CharField(null=True, db_index=True, max_length=255)),
                ('email', fields.TextField(null=True, unique=False)),
                ('email_index', fields.CharField(null=True, db_index=True, max_length=64)),
                ('email_hint', fields.CharField(null=True, max_length=254)),
                ('jurisdiction', fields.CharField(max_length=8)),
                ('locale', fields.CharField(null=True, max_length=35)),
                ('details', fields.TextField(null=True, unique=False)),
                ('submitted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('extended', fields.BooleanField(default=False)),
                ('token_hash', fields.CharField(null=True, max_length=64)),
                ('token_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('token_attempts', fields.IntField(default=0)),
                ('export', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'subject_request', 'app': 'charter', 'indexes': [Index(fields=['tenant_id', 'due_at'])], 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
        ops.CreateModel(
            name='RequestEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('charter.Tenant', source_field='tenant_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('request', fields.ForeignKeyField('charter.SubjectRequest', source_field='request_id', db_constraint=True, to_field='id', related_name='timeline', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(description='UNVERIFIED: UNVERIFIED\nRECEIVED: RECEIVED\nIN_PROGRESS: IN_PROGRESS\nEXTENDED: EXTENDED\nCOMPLETED: COMPLETED\nREJECTED: REJECTED', enum_type=RequestStatus, max_length=16)),
                ('note', fields.TextField(null=True, unique=False)),
                ('actor', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'subject_request_event', 'app': 'charter', 'pk_attr': 'id'},
            bases=['TenantOwned'],
        ),
    ]
