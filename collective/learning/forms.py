"""Forms of learning: writing a module, and rating one. The services check the content and
the attachments; the forms read what was typed and chosen."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from collective.books.expenses.uploads import MAX_RECEIPT_BYTES, Upload, uploads_from
from collective.learning.markdown import MAX_CONTENT
from collective.learning.models import Audience
from collective.learning.modules import MAX_ATTACHMENTS, MAX_MINUTES
from collective.web.forms import AsciiIntegerField

ATTACHMENT_HINT = (f"Optional. PDF, PNG or JPEG, at most {MAX_RECEIPT_BYTES // (1024 * 1024)} "
                   f"MB each; up to {MAX_ATTACHMENTS} files. Only those who may read the "
                   "module can open them.")


class ModuleForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    skill = StringField("Skill it teaches", validators=[DataRequired(), Length(max=60)],
                        description="As members write it on their profiles, e.g. bookkeeping.")
    estimated_minutes = AsciiIntegerField(
        "Estimated time (minutes)", validators=[InputRequired(),
                                                NumberRange(min=1, max=MAX_MINUTES)])
    #: Not named `content`: the page's main element has that id.
    markdown = TextAreaField(
        "Content", validators=[DataRequired(), Length(max=MAX_CONTENT)],
        description="Markdown: # headings, **bold**, *italics*, lists, [links](https://…), "
                    "`code` and tables. HTML is shown as text.")
    audience = RadioField("Who can read it", default=Audience.COLLECTIVE.value, choices=[
        (Audience.COLLECTIVE.value, "Members of this collective"),
        (Audience.PARTNERS.value, "Members of this collective and of its partner "
                                  "collectives")], validators=[InputRequired()])
    attachments = MultipleFileField("Attachments", description=ATTACHMENT_HINT)

    def uploads(self) -> list[Upload]:
        """The files chosen, read for the service's checks."""
        return uploads_from(self.attachments.data)


class RateForm(FlaskForm):
    rating = RadioField("Your rating", coerce=int, choices=[
        (5, "5 – excellent"), (4, "4 – good"), (3, "3 – fair"), (2, "2 – weak"),
        (1, "1 – poor")], validators=[InputRequired(message="Choose a rating from 1 to 5.")])
    comment = TextAreaField("Comment (optional; others see it)",
                            validators=[Optional(), Length(max=1000)])
