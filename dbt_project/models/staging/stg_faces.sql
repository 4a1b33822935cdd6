with

source as (

    select * from {{ source('raw', 'faces') }}

),

final as (

    -- embeddings stay in raw: no mart needs them; the landmarks give a face's pose
    select
        cast(face_id as varchar) as face_id,
        cast(video_id as varchar) as video_id,
        cast(frame_index as integer) as frame_index,
        cast(timestamp_s as double) as timestamp_s,
        cast(x1 as double) as x1,
        cast(y1 as double) as y1,
        cast(x2 as double) as x2,
        cast(y2 as double) as y2,
        cast(frame_width as integer) as frame_width,
        cast(frame_height as integer) as frame_height,
        cast(det_score as double) as det_score,
        cast(sharpness as double) as sharpness,
        cast(embedder as varchar) as embedder,
        cast(crop_path as varchar) as crop_path,
        cast(age_years as double) as age_years,
        cast(landmarks as float[10]) as landmarks
    from source

)

select * from final
