with

faces as (

    select * from {{ ref('int_faces_clustered') }}

),

influencer_videos as (

    select * from {{ ref('int_influencer_videos_aggregated') }}

),

videos as (

    select * from {{ ref('stg_videos') }}

),

person_faces as (

    select
        *,
        median(sharpness) over (partition by influencer_id, video_id) as median_sharpness
    from faces
    where influencer_id is not null

),

-- the largest of the faces at least as sharp as the person's median face in that video (a big
-- blurred face shows less than a smaller sharp one), then the sharpest, then face_id
picked as (

    select *
    from person_faces
    qualify row_number() over (
        partition by influencer_id, video_id
        order by
            coalesce(sharpness >= median_sharpness, false) desc,
            box_area desc nulls last,
            sharpness desc nulls last,
            face_id asc
    ) = 1

),

final as (

    select
        picked.influencer_id,
        picked.video_id,
        picked.face_id,
        picked.crop_path as face_path,
        videos.row_number,
        videos.source_url,
        -- a URL's or path's last part, without a query string: what people call the file
        regexp_extract(videos.source_url, '([^/\\?#]+)/*(?:[?#].*)?$', 1) as video_name,
        videos.performance_score,
        influencer_videos.role,
        influencer_videos.n_faces,
        picked.box_height as face_height_px,
        picked.sharpness
    from picked
    inner join influencer_videos
        on
            picked.influencer_id = influencer_videos.influencer_id
            and picked.video_id = influencer_videos.video_id
    inner join videos
        on picked.video_id = videos.video_id

)

select * from final
