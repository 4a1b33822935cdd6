with

faces as (

    select * from {{ ref('stg_faces') }}

),

clusters as (

    select * from {{ ref('stg_face_clusters') }}

),

-- only faces of the clustered embedder (inner join); cluster_id -1 belongs to nobody
joined as (

    select
        faces.face_id,
        faces.video_id,
        faces.frame_index,
        faces.timestamp_s,
        clusters.cluster_id,
        case when clusters.cluster_id >= 1 then clusters.cluster_id end as influencer_id,
        clusters.track_id,
        clusters.centroid_similarity,
        faces.det_score,
        faces.sharpness,
        faces.crop_path,
        faces.x2 - faces.x1 as box_width,
        faces.y2 - faces.y1 as box_height,
        (faces.x2 - faces.x1) * (faces.y2 - faces.y1) as box_area,
        (faces.y2 - faces.y1) / nullif(faces.frame_height, 0) as face_height_ratio
    from faces
    inner join clusters
        on faces.face_id = clusters.face_id

),

final as (

    select * from joined

)

select * from final
