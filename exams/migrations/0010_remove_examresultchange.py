from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("exams", "0009_carry_history_over")]

    operations = [migrations.DeleteModel(name="ExamResultChange")]
