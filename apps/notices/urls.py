from django.urls import path

from apps.notices import views

app_name = "notices"
urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("returned/", views.returned, name="returned"),
    path("batches/", views.batch_list, name="batches"),
    path("batches/<uuid:batch_id>/", views.batch_detail, name="batch"),
    path("batches/<uuid:batch_id>/progress/", views.batch_progress, name="batch-progress"),
    path("batches/<uuid:batch_id>/render/", views.batch_render, name="batch-render"),
    path("batches/<uuid:batch_id>/printed/", views.batch_printed, name="batch-printed"),
    path("batches/<uuid:batch_id>/posted/", views.batch_posted, name="batch-posted"),
    path("batches/<uuid:batch_id>/download.<str:fmt>", views.batch_download, name="batch-download"),
]
