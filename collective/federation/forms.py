"""Forms of the partner pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from collective.federation.models import ShareRole
from collective.web.forms import AsciiIntegerField, MoneyFormMixin, request_key_field
from collective.web.member_field import MemberField


class ProposePartnerForm(FlaskForm):
    partner = StringField("The other collective's address (its slug)",
                          validators=[DataRequired(), Length(max=40)],
                          description="As in /c/<slug>/: ask one of its coordinators.")
    description = TextAreaField("Why (your members read this when they vote)",
                                validators=[Optional(), Length(max=2000)])


class LeaveForm(FlaskForm):
    reason = TextAreaField("Why (the other collective sees this)",
                           validators=[Optional(), Length(max=500)])


class ShareForm(FlaskForm):
    pitch_id = SelectField("Pitch", coerce=int, validators=[InputRequired()])
    partner_bp = AsciiIntegerField("Partner's part, in basis points (3333 = 33.33%)",
                                   validators=[InputRequired(), NumberRange(0, 10_000)])
    role = SelectField("The partner is", choices=[(r.value, r.label.capitalize())
                                                  for r in ShareRole],
                       default=ShareRole.PARTNER.value)
    note = StringField("Note for the partner", validators=[Optional(), Length(max=500)])


class AnswerForm(FlaskForm):
    answer = HiddenField(validators=[DataRequired()])


class HireForm(FlaskForm):
    federation_id = SelectField("Partner collective", coerce=int, validators=[InputRequired()])
    partner_bp = AsciiIntegerField("Their part of each payment, in basis points (2500 = 25%)",
                                   validators=[InputRequired(), NumberRange(0, 10_000)])
    note = TextAreaField("What part of the work they would do",
                         validators=[DataRequired(), Length(max=500)])


class RequestAnswerForm(FlaskForm):
    answer = HiddenField(validators=[DataRequired()])
    reason = StringField("Why (the member who asked reads this)",
                         validators=[Optional(), Length(max=500)])


class PartnerAllocationForm(FlaskForm):
    membership_id = MemberField("Partner member")
    weight = AsciiIntegerField("Weight", default=1, validators=[InputRequired(),
                                                                NumberRange(1, 10_000)])
    weekly_hours = AsciiIntegerField("Hours a week", default=0,
                                     validators=[InputRequired(), NumberRange(0, 168)])


class PartnerTimeForm(FlaskForm):
    worked_on = DateField("Day", validators=[InputRequired()])
    hours = StringField("Hours", validators=[DataRequired(), Length(max=10)],
                        description="Like 1.5 or 1:30")
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class SettleForm(FlaskForm, MoneyFormMixin):
    amount = StringField("Amount paid", validators=[DataRequired(), Length(max=30)])
    paid_on = DateField("Paid on", validators=[InputRequired()])
    reference = StringField("Bank reference", validators=[Optional(), Length(max=120)])
    request_key = request_key_field()
