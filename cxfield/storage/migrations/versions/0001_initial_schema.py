"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cxfield.storage.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('local_setting',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('value', cxfield.storage.types.JSONText(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('researcher',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('deleted_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('site',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('deleted_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('study',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('program', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('consent_text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('consent_version', sa.Integer(), nullable=False),
    sa.Column('segment_attributes', cxfield.storage.types.JSONText(), nullable=False),
    sa.Column('extra_emotions', cxfield.storage.types.JSONText(), nullable=False),
    sa.Column('survey_version', sa.String(length=20), nullable=False),
    sa.Column('survey_trust_variant', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('survey_effectiveness_variant', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('agency', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('deleted_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('consent_text',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('deleted_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('study_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('study_id', 'version')
    )
    with op.batch_alter_table('consent_text', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_text_study_id'), ['study_id'], unique=False)

    op.create_table('participant',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('deleted_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('study_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('segments', cxfield.storage.types.JSONText(), nullable=False),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.Column('withdrawn_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('study_id', 'code')
    )
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_study_id'), ['study_id'], unique=False)

    op.create_table('stage',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('deleted_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('study_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_study_id'), ['study_id'], unique=False)

    op.create_table('consent_record',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('deleted_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('participant_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('consent_version', sa.Integer(), nullable=False),
    sa.Column('interview_consent', sa.Boolean(), nullable=False),
    sa.Column('recording_consent', sa.Boolean(), nullable=False),
    sa.Column('consented_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.Column('withdrawn_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['researcher.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_record_participant_id'), ['participant_id'], unique=False)

    op.create_table('session',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('deleted_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('study_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('site_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('researcher_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('participant_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('ended_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ),
    sa.ForeignKeyConstraint(['researcher_id'], ['researcher.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_session_study_id'), ['study_id'], unique=False)

    op.create_table('step',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('deleted_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('study_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('stage_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('lane', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['stage_id'], ['stage.id'], ),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_step_stage_id'), ['stage_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_step_study_id'), ['study_id'], unique=False)

    op.create_table('recording',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('deleted_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('session_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('format', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('sample_rate', sa.Integer(), nullable=False),
    sa.Column('channels', sa.Integer(), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('original_path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('started_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['session.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recording_session_id'), ['session_id'], unique=False)

    op.create_table('step_capture',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('deleted_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('session_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('step_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('valence', sa.Integer(), nullable=True),
    sa.Column('emotions', cxfield.storage.types.JSONText(), nullable=False),
    sa.Column('intensity', sa.Integer(), nullable=True),
    sa.Column('pain_point', sa.Boolean(), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('quote', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('observed_start', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('observed_end', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['session.id'], ),
    sa.ForeignKeyConstraint(['step_id'], ['step.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'step_id')
    )
    with op.batch_alter_table('step_capture', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_step_capture_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_step_capture_step_id'), ['step_id'], unique=False)

    op.create_table('survey_response',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('deleted_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('session_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('survey_version', sa.String(length=20), nullable=False),
    sa.Column('trust_variant', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('effectiveness_variant', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('trust', sa.Integer(), nullable=True),
    sa.Column('effectiveness', sa.Integer(), nullable=True),
    sa.Column('ease', sa.Integer(), nullable=True),
    sa.Column('efficiency', sa.Integer(), nullable=True),
    sa.Column('equity', sa.Integer(), nullable=True),
    sa.Column('employee', sa.Integer(), nullable=True),
    sa.Column('transparency', sa.Integer(), nullable=True),
    sa.Column('went_well', cxfield.storage.types.JSONText(), nullable=False),
    sa.Column('not_well', cxfield.storage.types.JSONText(), nullable=False),
    sa.Column('comments', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('responded_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['session.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_response_session_id'), ['session_id'], unique=True)

    op.create_table('note',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('deleted_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('session_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('step_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tags', cxfield.storage.types.JSONText(), nullable=False),
    sa.Column('session_offset_ms', sa.Integer(), nullable=False),
    sa.Column('recording_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('recording_offset_frames', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['recording_id'], ['recording.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['session.id'], ),
    sa.ForeignKeyConstraint(['step_id'], ['step.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_note_session_id'), ['session_id'], unique=False)

    op.create_table('transcript_segment',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('deleted_at', cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    sa.Column('recording_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('session_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('start_s', sa.Float(), nullable=False),
    sa.Column('end_s', sa.Float(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('speaker', sa.String(length=20), nullable=False),
    sa.Column('edited', sa.Boolean(), nullable=False),
    sa.Column('original_text', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['recording_id'], ['recording.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['session.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('transcript_segment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcript_segment_recording_id'), ['recording_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transcript_segment_session_id'), ['session_id'], unique=False)

    op.create_table('transcription_job',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('session_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('recording_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('audio_path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('translate', sa.Boolean(), nullable=False),
    sa.Column('word_timestamps', sa.Boolean(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.Column('updated_at', cxfield.storage.types.UTCDateTime(length=32), nullable=False),
    sa.ForeignKeyConstraint(['recording_id'], ['recording.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['session.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('transcription_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcription_job_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transcription_job_state'), ['state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('transcription_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcription_job_state'))
        batch_op.drop_index(batch_op.f('ix_transcription_job_session_id'))

    op.drop_table('transcription_job')
    with op.batch_alter_table('transcript_segment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcript_segment_session_id'))
        batch_op.drop_index(batch_op.f('ix_transcript_segment_recording_id'))

    op.drop_table('transcript_segment')
    with op.batch_alter_table('note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_note_session_id'))

    op.drop_table('note')
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_response_session_id'))

    op.drop_table('survey_response')
    with op.batch_alter_table('step_capture', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_step_capture_step_id'))
        batch_op.drop_index(batch_op.f('ix_step_capture_session_id'))

    op.drop_table('step_capture')
    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recording_session_id'))

    op.drop_table('recording')
    with op.batch_alter_table('step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_step_study_id'))
        batch_op.drop_index(batch_op.f('ix_step_stage_id'))

    op.drop_table('step')
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_study_id'))
        batch_op.drop_index(batch_op.f('ix_session_participant_id'))

    op.drop_table('session')
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_record_participant_id'))

    op.drop_table('consent_record')
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stage_study_id'))

    op.drop_table('stage')
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_study_id'))

    op.drop_table('participant')
    with op.batch_alter_table('consent_text', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_text_study_id'))

    op.drop_table('consent_text')
    op.drop_table('study')
    op.drop_table('site')
    op.drop_table('researcher')
    op.drop_table('local_setting')
