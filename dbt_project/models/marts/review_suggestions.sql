with

candidates as (

    select * from {{ ref('stg_review_candidates') }}

),

influencers as (

    select * from {{ ref('influencers') }}

),

video_faces as (

    select * from {{ ref('influencer_video_faces') }}

),

-- the reason in words: what the two sides share, and what kept them apart
worded as (

    select
        *,
        case
            when n_shared_videos = 1
                then 'both in 1 video, never on screen together'
            when n_shared_videos > 1
                then 'both in ' || n_shared_videos || ' videos, never on screen together'
        end as shared_words,
        case kept_apart_by
            when 'threshold'
                then printf(
                    'faces %.2f alike, just under the %.2f at which people merge',
                    1 - distance,
                    1 - cluster_threshold
                )
            when 'ratio'
                then printf(
                    'faces %.2f alike, enough to merge, but each looks more like itself',
                    1 - distance
                )
            when 'veto'
                then printf(
                    'faces %.2f alike, enough to merge, but the second face model sees two people',
                    1 - distance
                )
            else printf('faces %.2f alike, enough to merge', 1 - distance)
        end as apart_words,
        {{ people_db_flag() }} as db_flag,
        -- how often such a suggestion is right, in words: "about 8 in 10 such pairs are"
        case
            when chance is null then null
            when chance < 0.05 then 'fewer than 1 in 20'
            when chance >= 0.95 then 'more than 19 in 20'
            else 'about ' || greatest(1, least(9, cast(round(chance * 10) as integer))) || ' in 10'
        end as share_words
    from candidates

),

joined as (

    select
        worded.kind || ':' || worded.influencer_id || ':'
        || coalesce(cast(worded.other_id as varchar), worded.video_id) as suggestion_id,
        worded.kind,
        worded.suggestion_rank,
        worded.influencer_id,
        worded.other_id,
        worded.video_id,
        worded.chance,
        coalesce(worded.shown, true) as shown,
        case
            when worded.chance is null then null
            else
                case
                    when worded.chance >= 0.7 then 'likely '
                    when worded.chance >= 0.3 then 'maybe '
                    else 'unlikely '
                end
                || case
                    when worded.kind = 'same_person'
                        then 'the same person: ' || worded.share_words || ' such pairs are'
                    else 'someone else: ' || worded.share_words || ' such videos are'
                end
        end as chance_words,
        -- the mean cosine similarity of the two sides' centred track centroids
        1 - worded.distance as similarity,
        1 - worded.cluster_threshold as merge_similarity,
        case
            when worded.kind = 'same_person'
                then concat_ws('; ', worded.shared_words, worded.apart_words)
            else printf(
                'faces in this video are %.2f alike to the rest of this person (in %d videos): '
                || 'a wrong merge looks like this',
                1 - worded.distance,
                me.n_videos
            )
        end as reason,
        case
            when worded.kind = 'same_person'
                then
                    '.venv/bin/ingest people merge ' || worded.influencer_id || ' '
                    || worded.other_id || worded.db_flag
            else
                '.venv/bin/ingest people split ' || worded.influencer_id || ' --video '
                || worded.video_id || worded.db_flag
        end as command,
        -- the other answer: two different people, or the video is this person's after all
        case
            when worded.kind = 'same_person'
                then
                    '.venv/bin/ingest people apart ' || worded.influencer_id || ' '
                    || worded.other_id || worded.db_flag
            else
                '.venv/bin/ingest people keep ' || worded.influencer_id || ' --video '
                || worded.video_id || worded.db_flag
        end as dismiss_command,
        me.influencer_name,
        other.influencer_name as other_name,
        -- faces side by side: both people's representative faces; for a video, the person's
        -- face in it beside their representative one
        me.representative_face_path as face_path,
        coalesce(other.representative_face_path, video_faces.face_path) as other_face_path,
        video_faces.row_number as video_row_number,
        video_faces.source_url as video_source_url,
        video_faces.video_name,
        worded.n_shared_videos,
        worded.kept_apart_by,
        worded.distance,
        worded.faceres_distance,
        worded.cluster_threshold,
        me.is_hidden or coalesce(other.is_hidden, false) as about_hidden
    from worded
    inner join influencers as me
        on worded.influencer_id = me.influencer_id
    left join influencers as other
        on worded.other_id = other.influencer_id
    left join video_faces
        on
            worded.influencer_id = video_faces.influencer_id
            and worded.video_id = video_faces.video_id

),

-- a hidden person (crew, bystander) has been looked at: nothing to check about them
final as (

    select * exclude (about_hidden)
    from joined
    where not about_hidden

)

select * from final
